namespace Chainspace.Storage.Objects;

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
