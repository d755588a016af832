using Chainspace.Core.Cluster;

namespace Chainspace.Transport;

/// <summary>The authenticated identity of the far end: a replica proven by its configured key, or a client.</summary>
public readonly record struct PeerIdentity(bool IsClient, NodeId Id)
{
    public static PeerIdentity Client => new(true, default);
    public static PeerIdentity Replica(NodeId id) => new(false, id);
    public override string ToString() => IsClient ? "client" : Id.ToString();
}
