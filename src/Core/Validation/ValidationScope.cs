namespace Chainspace.Core.Validation;

/// <summary>
/// Which part of Fig. 2 a validator is responsible for (paper §IV-B). A client or an auditor checks
/// everything. A shard checks that the objects it manages are active, and runs the checker of a
/// contract only if it manages some object of that contract that the transaction uses (ζ \ ξ);
/// for the rest it relies on the other concerned shards.
/// </summary>
public readonly struct ValidationScope
{
    private ValidationScope(bool everything, uint shard, ShardMap map)
    {
        IsEverything = everything;
        Shard = shard;
        Map = map;
    }

    public static ValidationScope Everything => new(true, 0, new ShardMap(1));

    public static ValidationScope ForShard(uint shard, ShardMap map)
    {
        if (shard >= map.ShardCount) throw new ArgumentOutOfRangeException(nameof(shard), $"shard {shard} does not exist among {map.ShardCount}");
        return new ValidationScope(false, shard, map);
    }

    public bool IsEverything { get; }
    public uint Shard { get; }
    public ShardMap Map { get; }

    public bool Manages(in Hash256 objectId) => IsEverything || Map.ShardOf(objectId) == Shard;

    public override string ToString() => IsEverything ? "everything" : $"shard {Shard}/{Map.ShardCount}";
}
