namespace Chainspace.Core;

/// <summary>
/// φ(o) = id(o) mod K. The integer is the object id's 32 bytes read as one unsigned 256-bit
/// big-endian number (byte 0 most significant), as in the paper's evaluation ("id(o) is the SHA256
/// hash of the object"). Shards are numbered 0..K-1.
/// </summary>
public readonly struct ShardMap
{
    public ShardMap(uint shardCount)
    {
        if (shardCount == 0) throw new ArgumentOutOfRangeException(nameof(shardCount), "a cluster has at least one shard");
        ShardCount = shardCount;
    }

    public uint ShardCount { get; }

    public uint ShardOf(in Hash256 objectId) => ShardCount == 1 ? 0 : objectId.Mod(ShardCount);
}
