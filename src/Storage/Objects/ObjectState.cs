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

/// <summary>The outcome of a store command. Anything but <see cref="Ok"/> changed nothing.</summary>
public enum StoreResult : byte
{
    Ok,
    /// <summary>Create: the object exists already (in any state).</summary>
    AlreadyExists,
    /// <summary>The object is not known here.</summary>
    NotFound,
    /// <summary>The object was consumed.</summary>
    Inactive,
    /// <summary>Lock: another transaction holds the lock.</summary>
    LockedByOther,
    /// <summary>Consume: the object is not locked by this transaction.</summary>
    NotLockedByTransaction,
    /// <summary>The same id appears twice in one create.</summary>
    Duplicate,
}

/// <summary>Store commands, as recorded in the log. Values are part of the record format.</summary>
public enum StoreCommandKind : byte
{
    Create = 1,
    Lock = 2,
    Unlock = 3,
    Consume = 4,
}
