namespace Chainspace.Core.Cluster;

/// <summary>A replica's identity in the cluster: its shard and its index within the shard (0..n-1).</summary>
public readonly record struct NodeId(ushort Shard, ushort Replica) : IComparable<NodeId>
{
    public int CompareTo(NodeId other) => Shard != other.Shard ? Shard.CompareTo(other.Shard) : Replica.CompareTo(other.Replica);
    public override string ToString() => $"s{Shard}r{Replica}";
}
