using Chainspace.Core;
using Chainspace.Core.Validation;

namespace Chainspace.Sbac;

/// <summary>An object's state in the shard that manages it (paper Fig. 3).</summary>
public enum ObjectStatus : byte
{
    /// <summary>Never created here (or managed by another shard).</summary>
    Unknown = 0,
    Active = 1,
    /// <summary>Active, but held by a prepared transaction until its accept.</summary>
    Locked = 2,
    Inactive = 3,
}

/// <summary>
/// The object states the S-BAC ledger drives. <see cref="IObjectStates.IsUsable"/> is "active and not
/// locked", which is what Fig. 2 checks when a shard prepares a transaction.
/// Every mutation is called only when the ledger has checked that it is legal; an illegal one is a bug.
/// </summary>
public interface IObjectTable : IObjectStates
{
    ObjectStatus GetStatus(in Hash256 id, out Hash256 lockedBy);
    void Create(in Hash256 id);
    /// <summary>Active → Locked by <paramref name="transaction"/>.</summary>
    void Lock(in Hash256 id, in Hash256 transaction);
    /// <summary>Locked by <paramref name="transaction"/> → Active.</summary>
    void Unlock(in Hash256 id, in Hash256 transaction);
    /// <summary>Locked by <paramref name="transaction"/> → Inactive.</summary>
    void Consume(in Hash256 id, in Hash256 transaction);
    int Count { get; }
    /// <summary>Forgets everything (before restoring a snapshot).</summary>
    void Clear();
    /// <summary>Sets an entry as a snapshot recorded it (restore only).</summary>
    void Restore(in Hash256 id, ObjectStatus status, in Hash256 lockedBy);
    /// <summary>Every entry, in ascending id order (for digests and snapshots; not on the hot path).</summary>
    IEnumerable<(Hash256 Id, ObjectStatus Status, Hash256 LockedBy)> Entries();
}
