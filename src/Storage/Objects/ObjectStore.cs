using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Chainspace.Core;
using Chainspace.Core.Memory;
using Chainspace.Core.Validation;

namespace Chainspace.Storage.Objects;

/// <summary>
/// The shard's view of the objects it manages: active, locked (by which transaction) or inactive.
/// Command-level API (<see cref="Create"/>, <see cref="TryLock"/>, <see cref="Unlock"/>, <see cref="Consume"/>),
/// each all-or-nothing and each with a replayable record encoding (<see cref="StoreCommand"/>): the S-BAC
/// layer decides when to call them and logs what it applied; <see cref="Apply"/> replays a record.
/// <para>
/// Lookups are an open-addressing table (linear probing) of structs keyed by <see cref="Hash256"/>,
/// allocation-free; the probe start mixes the id with a random per-store key, so ids ground to share
/// low bits cannot pile up in one run. Objects are never removed (inactive ones are tombstones).
/// Transactions holding locks live in a slot pool indexed by a second table; each slot chains its objects
/// through the object entries, so unlocking touches only that transaction's objects. Single-threaded.
/// </para>
/// </summary>
public sealed partial class ObjectStore : IObjectStates
{
    private const int MinCapacity = 16;
    private const int NoSlot = -1;

    private struct Entry
    {
        public Hash256 Id;
        public int LockSlot;     // index into _locks while Locked, else NoSlot
        public int NextInTx;     // next object entry locked by the same transaction, or -1
        public ObjectState State;
    }

    private struct TxLock
    {
        public Hash256 TxId;
        public int Head;         // first object entry in the chain, or -1
        public int Count;        // objects still locked
        public int NextFree;     // free-list link while unused
    }

    private readonly ulong _key = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private Entry[] _entries;
    private int _mask;
    private int _count;
    private int _activeCount;
    private int _lockedCount;

    private TxLock[] _locks;
    private int _freeLock = -1;
    private int _lockSlotsUsed;
    private int[] _lockIndex;    // slot + 1, 0 = empty; linear probing with backward-shift deletion
    private int _lockIndexMask;
    private int _lockingTransactions;

    private Hash256[] _scratch = new Hash256[16];

    public ObjectStore(int capacity = 1024)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinCapacity, capacity + capacity / 3 + 1));
        _entries = NewTable(size);
        _mask = size - 1;
        _locks = new TxLock[MinCapacity];
        _lockIndex = new int[MinCapacity * 2];
        _lockIndexMask = _lockIndex.Length - 1;
    }

    /// <summary>Objects known, in any state.</summary>
    public int Count => _count;
    public int ActiveCount => _activeCount;
    public int LockedCount => _lockedCount;
    public int InactiveCount => _count - _activeCount - _lockedCount;

    /// <summary>Transactions that hold at least one lock.</summary>
    public int LockingTransactions => _lockingTransactions;

    /// <summary>Fig. 2's α0 for a replica: usable means active and not locked.</summary>
    public bool IsUsable(in Hash256 objectId)
    {
        int index = Find(objectId);
        return index >= 0 && _entries[index].State == ObjectState.Active;
    }

    public ObjectState GetState(in Hash256 objectId)
    {
        int index = Find(objectId);
        return index < 0 ? ObjectState.Absent : _entries[index].State;
    }

    /// <summary>The state, and for a locked object the transaction holding it (else <see cref="Hash256.Zero"/>).</summary>
    public ObjectState GetState(in Hash256 objectId, out Hash256 lockedBy)
    {
        int index = Find(objectId);
        lockedBy = default;
        if (index < 0) return ObjectState.Absent;
        ref var entry = ref _entries[index];
        if (entry.State == ObjectState.Locked) lockedBy = _locks[entry.LockSlot].TxId;
        return entry.State;
    }

    /// <summary>Creates active objects (a transaction's outputs, or genesis objects). All or nothing.</summary>
    public StoreResult Create(ReadOnlySpan<Hash256> objectIds) => Create(objectIds, out _);

    public StoreResult Create(ReadOnlySpan<Hash256> objectIds, out int failedIndex)
    {
        // Transactions create a handful of objects: a pairwise check, no allocation. Genesis creates
        // hundreds of thousands at once: a set, or the check alone would take minutes.
        var seen = objectIds.Length > 32 ? new HashSet<Hash256>(objectIds.Length) : null;
        for (int i = 0; i < objectIds.Length; i++)
        {
            failedIndex = i;
            if (Find(objectIds[i]) >= 0) return StoreResult.AlreadyExists;
            if (seen is not null)
            {
                if (!seen.Add(objectIds[i])) return StoreResult.Duplicate;
                continue;
            }
            for (int j = 0; j < i; j++)
            {
                if (objectIds[j] == objectIds[i]) return StoreResult.Duplicate;
            }
        }
        failedIndex = -1;
        EnsureCapacity(_count + objectIds.Length);
        foreach (ref readonly var id in objectIds)
        {
            int index = ~Find(id);
            Invariant.Check(index >= 0);
            _entries[index] = new Entry { Id = id, LockSlot = NoSlot, NextInTx = -1, State = ObjectState.Active };
            _count++;
            _activeCount++;
        }
        return StoreResult.Ok;
    }

    /// <summary>
    /// Locks objects for <paramref name="txId"/>: each must be active and unlocked, or locked by this same
    /// transaction already (so a repeated id or a replayed lock is harmless). All or nothing.
    /// </summary>
    public StoreResult TryLock(ReadOnlySpan<Hash256> objectIds, in Hash256 txId) => TryLock(objectIds, txId, out _);

    public StoreResult TryLock(ReadOnlySpan<Hash256> objectIds, in Hash256 txId, out int failedIndex)
    {
        int slot = FindLockSlot(txId);
        for (int i = 0; i < objectIds.Length; i++)
        {
            failedIndex = i;
            int index = Find(objectIds[i]);
            if (index < 0) return StoreResult.NotFound;
            ref var entry = ref _entries[index];
            if (entry.State == ObjectState.Inactive) return StoreResult.Inactive;
            if (entry.State == ObjectState.Locked && entry.LockSlot != slot) return StoreResult.LockedByOther;
        }
        failedIndex = -1;
        if (objectIds.IsEmpty) return StoreResult.Ok;
        if (slot < 0) slot = AddLockSlot(txId);
        ref var tx = ref _locks[slot];
        foreach (ref readonly var id in objectIds)
        {
            int index = Find(id);
            ref var entry = ref _entries[index];
            if (entry.State == ObjectState.Locked) continue;   // this transaction's already
            Invariant.Check(entry.State == ObjectState.Active);
            entry.State = ObjectState.Locked;
            entry.LockSlot = slot;
            entry.NextInTx = tx.Head;
            tx.Head = index;
            tx.Count++;
            _activeCount--;
            _lockedCount++;
        }
        return StoreResult.Ok;
    }

    /// <summary>Releases every lock <paramref name="txId"/> holds (an abort, or a commit's references). Returns how many.</summary>
    public int Unlock(in Hash256 txId)
    {
        int slot = FindLockSlot(txId);
        if (slot < 0) return 0;
        int released = 0;
        for (int index = _locks[slot].Head; index >= 0;)
        {
            ref var entry = ref _entries[index];
            int next = entry.NextInTx;
            if (entry.State == ObjectState.Locked && entry.LockSlot == slot)
            {
                entry.State = ObjectState.Active;
                entry.LockSlot = NoSlot;
                released++;
            }
            entry.NextInTx = -1;
            index = next;
        }
        Invariant.Check(released == _locks[slot].Count);
        _lockedCount -= released;
        _activeCount += released;
        RemoveLockSlot(slot);
        return released;
    }

    /// <summary>Consumes objects that <paramref name="txId"/> has locked (a commit's inputs). All or nothing.</summary>
    public StoreResult Consume(ReadOnlySpan<Hash256> objectIds, in Hash256 txId) => Consume(objectIds, txId, out _);

    public StoreResult Consume(ReadOnlySpan<Hash256> objectIds, in Hash256 txId, out int failedIndex)
    {
        int slot = FindLockSlot(txId);
        for (int i = 0; i < objectIds.Length; i++)
        {
            failedIndex = i;
            int index = Find(objectIds[i]);
            if (index < 0) return StoreResult.NotFound;
            ref var entry = ref _entries[index];
            if (entry.State == ObjectState.Inactive) return StoreResult.Inactive;
            if (entry.State != ObjectState.Locked || entry.LockSlot != slot) return StoreResult.NotLockedByTransaction;
            for (int j = 0; j < i; j++)
            {
                if (objectIds[j] == objectIds[i]) return StoreResult.Duplicate;
            }
        }
        failedIndex = -1;
        foreach (ref readonly var id in objectIds)
        {
            ref var entry = ref _entries[Find(id)];
            entry.State = ObjectState.Inactive;   // stays in the chain until the slot goes; Unlock skips it
            entry.LockSlot = NoSlot;
            _lockedCount--;
        }
        if (slot >= 0)
        {
            _locks[slot].Count -= objectIds.Length;
            Invariant.Check(_locks[slot].Count >= 0);
            if (_locks[slot].Count == 0) Unlock(txId);
        }
        return StoreResult.Ok;
    }

    /// <summary>Applies one command record (see <see cref="StoreCommand"/>). Malformed input throws <see cref="Core.Codec.CodecException"/>.</summary>
    public StoreResult Apply(ReadOnlySpan<byte> record)
    {
        var command = StoreCommand.Decode(record);
        if (_scratch.Length < command.Count) _scratch = new Hash256[(int)BitOperations.RoundUpToPowerOf2((uint)command.Count)];
        var ids = _scratch.AsSpan(0, command.Count);
        command.CopyIdsTo(ids);
        return command.Kind switch
        {
            StoreCommandKind.Create => Create(ids),
            StoreCommandKind.Lock => TryLock(ids, command.TxId),
            StoreCommandKind.Unlock => UnlockCommand(command.TxId),
            StoreCommandKind.Consume => Consume(ids, command.TxId),
            _ => throw new InvalidOperationException("unreachable: Decode checks the kind"),
        };
    }

    private StoreResult UnlockCommand(in Hash256 txId)
    {
        Unlock(txId);
        return StoreResult.Ok;
    }

    /// <summary>Checks the counters and chains against the tables (tests and debug builds; O(n)).</summary>
    public void CheckInvariants()
    {
        int count = 0, active = 0, locked = 0;
        foreach (ref readonly var entry in _entries.AsSpan())
        {
            if (entry.State == ObjectState.Absent) continue;
            count++;
            if (entry.State == ObjectState.Active) active++;
            if (entry.State == ObjectState.Locked)
            {
                locked++;
                Invariant.Check(entry.LockSlot >= 0 && FindLockSlot(_locks[entry.LockSlot].TxId) == entry.LockSlot);
            }
            else
            {
                Invariant.Check(entry.LockSlot == NoSlot);
            }
        }
        Invariant.Check(count == _count);
        Invariant.Check(active == _activeCount);
        Invariant.Check(locked == _lockedCount);
        int chained = 0, transactions = 0;
        foreach (int stored in _lockIndex)
        {
            if (stored == 0) continue;
            transactions++;
            int slot = stored - 1;
            int n = 0;
            for (int index = _locks[slot].Head; index >= 0; index = _entries[index].NextInTx)
            {
                if (_entries[index].State == ObjectState.Locked && _entries[index].LockSlot == slot) n++;
            }
            Invariant.Check(n == _locks[slot].Count);
            Invariant.Check(n > 0);
            chained += n;
        }
        Invariant.Check(chained == _lockedCount);
        Invariant.Check(transactions == _lockingTransactions);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(in Hash256 id, int mask) => (int)(((id.Prefix64 ^ _key) * 0x9E3779B97F4A7C15UL) >> 32) & mask;

    /// <summary>The entry index holding <paramref name="id"/>, or the complement of the empty slot where it would go.</summary>
    private int Find(in Hash256 id)
    {
        var entries = _entries;
        int mask = _mask;
        for (int i = Home(id, mask); ; i = (i + 1) & mask)
        {
            ref var entry = ref entries[i];
            if (entry.State == ObjectState.Absent) return ~i;
            if (entry.Id == id) return i;
        }
    }

    // The table is the store's hot, randomly probed memory (tens of MiB on a benchmark node): huge-page-advised.
    private static Entry[] NewTable(int size) => size >= 1 << 16 ? LargeBuffers.AllocateZeroed<Entry>(size) : new Entry[size];

    private void EnsureCapacity(int count)
    {
        if (count <= _entries.Length * 3 / 4) return;
        int size = _entries.Length;
        while (count > size * 3 / 4) size *= 2;
        var old = _entries;
        _entries = NewTable(size);
        _mask = size - 1;
        var remap = new int[old.Length];
        for (int i = 0; i < old.Length; i++)
        {
            if (old[i].State == ObjectState.Absent) continue;
            int index = ~Find(old[i].Id);
            _entries[index] = old[i];
            remap[i] = index;
        }
        // Chains link entry indices: renumber them, and every slot's head.
        foreach (ref var entry in _entries.AsSpan())
        {
            if (entry.State != ObjectState.Absent && entry.NextInTx >= 0) entry.NextInTx = remap[entry.NextInTx];
        }
        foreach (int stored in _lockIndex)
        {
            if (stored != 0 && _locks[stored - 1].Head >= 0) _locks[stored - 1].Head = remap[_locks[stored - 1].Head];
        }
    }

    private int FindLockSlot(in Hash256 txId)
    {
        for (int i = Home(txId, _lockIndexMask); ; i = (i + 1) & _lockIndexMask)
        {
            int stored = _lockIndex[i];
            if (stored == 0) return NoSlot;
            if (_locks[stored - 1].TxId == txId) return stored - 1;
        }
    }

    private int AddLockSlot(in Hash256 txId)
    {
        if ((_lockingTransactions + 1) * 2 > _lockIndex.Length) GrowLockIndex();
        int slot;
        if (_freeLock >= 0)
        {
            slot = _freeLock;
            _freeLock = _locks[slot].NextFree;
        }
        else
        {
            if (_lockSlotsUsed == _locks.Length) Array.Resize(ref _locks, _locks.Length * 2);
            slot = _lockSlotsUsed++;
        }
        _locks[slot] = new TxLock { TxId = txId, Head = -1, Count = 0, NextFree = -1 };
        int i = Home(txId, _lockIndexMask);
        while (_lockIndex[i] != 0) i = (i + 1) & _lockIndexMask;
        _lockIndex[i] = slot + 1;
        _lockingTransactions++;
        return slot;
    }

    private void RemoveLockSlot(int slot)
    {
        int i = Home(_locks[slot].TxId, _lockIndexMask);
        while (_lockIndex[i] != slot + 1) i = (i + 1) & _lockIndexMask;
        // Backward-shift deletion: move later members of the run into the hole when their home allows it.
        int hole = i;
        for (int j = (hole + 1) & _lockIndexMask; _lockIndex[j] != 0; j = (j + 1) & _lockIndexMask)
        {
            int home = Home(_locks[_lockIndex[j] - 1].TxId, _lockIndexMask);
            bool canMove = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (!canMove) continue;
            _lockIndex[hole] = _lockIndex[j];
            hole = j;
        }
        _lockIndex[hole] = 0;
        _locks[slot] = new TxLock { Head = -1, NextFree = _freeLock };
        _freeLock = slot;
        _lockingTransactions--;
    }

    private void GrowLockIndex()
    {
        var old = _lockIndex;
        _lockIndex = new int[old.Length * 2];
        _lockIndexMask = _lockIndex.Length - 1;
        foreach (int stored in old)
        {
            if (stored == 0) continue;
            int i = Home(_locks[stored - 1].TxId, _lockIndexMask);
            while (_lockIndex[i] != 0) i = (i + 1) & _lockIndexMask;
            _lockIndex[i] = stored;
        }
    }
}
