using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;

namespace Chainspace.Transport;

/// <summary>
/// Who this end of a connection is: a replica with its Ed25519 key (listed in the cluster configuration),
/// or a client, which has no replica identity and may only send client frame types.
/// </summary>
public sealed class LocalIdentity
{
    private LocalIdentity(NodeId? id, Ed25519KeyPair? key)
    {
        Id = id;
        Key = key;
    }

    public NodeId? Id { get; }
    internal Ed25519KeyPair? Key { get; }
    public bool IsClient => Id is null;

    /// <summary>A replica identity. The key must be the one the cluster configuration lists for <paramref name="id"/>.</summary>
    public static LocalIdentity Replica(ClusterConfig cluster, NodeId id, Ed25519KeyPair key)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(key);
        if (!cluster.TryGetReplica(id, out var replica)) throw new ArgumentException($"identity: {id} is not in the cluster configuration");
        if (!replica!.PublicKey.Equals(key.PublicKey)) throw new ArgumentException($"identity: key does not match the configured public key of {id}");
        return new LocalIdentity(id, key);
    }

    public static LocalIdentity Client() => new(null, null);

    public override string ToString() => Id?.ToString() ?? "client";
}
