using Chainspace.Core.Cluster;

namespace Chainspace.Consensus;

/// <summary>
/// Client identifiers. External clients use ids below <see cref="ReplicaBase"/>; a replica of any shard
/// that submits requests (an S-BAC primary proposing an Accept, a shard sequencing an implicit Prepare)
/// uses the id derived from its <see cref="NodeId"/>, so its request numbers never collide with a client's.
/// </summary>
public static class ClientIds
{
    public const ulong ReplicaBase = 1UL << 63;

    public static ulong ForReplica(NodeId node) => ReplicaBase | ((ulong)node.Shard << 16) | node.Replica;

    public static bool IsReplica(ulong client) => client >= ReplicaBase;

    public static NodeId ToNodeId(ulong client)
    {
        if (!IsReplica(client)) throw new ArgumentOutOfRangeException(nameof(client), "not a replica client id");
        return new NodeId((ushort)(client >> 16), (ushort)client);
    }
}
