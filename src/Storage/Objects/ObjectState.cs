namespace Chainspace.Storage.Objects;

/// <summary>The state of an object in the shard that manages it. Values are part of the snapshot format.</summary>
public enum ObjectState : byte
{
    /// <summary>The shard does not know the object.</summary>
    Absent = 0,
    /// <summary>Active and not locked: usable as an input or reference.</summary>
    Active = 1,
    /// <summary>Active, locked by a transaction that this shard voted to commit.</summary>
    Locked = 2,
    /// <summary>Consumed. Kept for ever, so a replayed creation can never bring it back.</summary>
    Inactive = 3,
}
