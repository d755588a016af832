using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Memory;

namespace Chainspace.Storage.Objects;

/// <summary>
/// Snapshots: the unit of checkpointing and of state transfer to a lagging replica. Canonical, so two
/// replicas with the same state at the same sequence write the same bytes:
/// <code>
/// Snapshot := u8 version (1) ‖ u8 hash algorithm (1 = SHA-256) ‖ u64 sequence (LE)
///             ‖ varint t ‖ Hash256 × t            transactions holding locks, strictly ascending
///             ‖ varint n ‖ Object × n             strictly ascending by id
///             ‖ Hash256 SHA-256(all bytes before it)
/// Object   := Hash256 id ‖ u8 state (1 active, 2 locked, 3 inactive) ‖ [varint lock index, if locked]
/// </code>
/// Every listed transaction holds at least one lock.
/// </summary>
public sealed partial class ObjectStore
{
    private const int SnapshotFixedBytes = 2 + 8 + Hash256.Size;

    /// <summary>The exact length <see cref="WriteSnapshot(ulong, Span{byte})"/> needs.</summary>
    public int GetSnapshotLength() => new SnapshotPlan(this).Length;

    /// <summary>Writes the snapshot at <paramref name="sequence"/> (the last command it includes); returns its length.</summary>
    public int WriteSnapshot(ulong sequence, Span<byte> destination) => new SnapshotPlan(this).Write(this, sequence, destination);

    public void WriteSnapshot(ulong sequence, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var plan = new SnapshotPlan(this);
        int written = plan.Write(this, sequence, writer.GetSpan(plan.Length));
        writer.Advance(written);
    }

    // A plan made by PlanSnapshot for WritePlannedSnapshot: the caller sizes its buffer between the two, so the
    // ids are sorted once per snapshot. The counts catch a store changed in between.
    private SnapshotPlan _plan;
    private bool _planned;
    private (int Count, int Locking, int Active) _plannedShape;

    /// <summary>Sorts the snapshot's ids into the store's scratch and returns the snapshot's exact length; the next
    /// <see cref="WritePlannedSnapshot"/> writes it. Nothing may change the store in between.</summary>
    public int PlanSnapshot()
    {
        _plan = new SnapshotPlan(this);
        _planned = true;
        _plannedShape = (_count, _lockingTransactions, _activeCount);
        return _plan.Length;
    }

    /// <summary>Writes the snapshot <see cref="PlanSnapshot"/> planned into exactly its length; returns that length.</summary>
    public int WritePlannedSnapshot(ulong sequence, Span<byte> destination)
    {
        if (!_planned) throw new InvalidOperationException("no snapshot planned: call PlanSnapshot first");
        _planned = false;
        Invariant.Check(_plannedShape == (_count, _lockingTransactions, _activeCount));
        return _plan.Write(this, sequence, destination);
    }

    public byte[] ToSnapshot(ulong sequence)
    {
        var plan = new SnapshotPlan(this);
        var bytes = new byte[plan.Length];
        plan.Write(this, sequence, bytes);
        return bytes;
    }

    /// <summary>Loads a snapshot; throws <see cref="CodecException"/> naming the offset of the first problem.</summary>
    public static ObjectStore LoadSnapshot(ReadOnlySpan<byte> snapshot, out ulong sequence) =>
        TryLoadSnapshot(snapshot, out var store, out sequence, out var failure) ? store! : throw new CodecException(failure);

    public static bool TryLoadSnapshot(ReadOnlySpan<byte> snapshot, out ObjectStore? store, out ulong sequence, out CodecFailure failure)
    {
        store = null;
        sequence = 0;
        if (snapshot.Length < SnapshotFixedBytes + 2)
        {
            failure = new CodecFailure(CodecError.Truncated, snapshot.Length);
            return false;
        }
        var body = snapshot[..^Hash256.Size];
        if (Hashing.Sha256(body) != Hash256.Read(snapshot[^Hash256.Size..]))
        {
            failure = new CodecFailure(CodecError.InvalidValue, body.Length);   // checksum: torn or damaged
            return false;
        }
        var reader = new SpanReader(body);
        if (!reader.TryReadFormatHeader() || !reader.TryReadUInt64LittleEndian(out sequence)
            || !reader.TryReadCount(int.MaxValue, Hash256.Size, out int txCount))
        {
            failure = reader.Failure;
            return false;
        }
        var txIds = new Hash256[txCount];
        var txUsed = new bool[txCount];
        for (int i = 0; i < txCount; i++)
        {
            int at = reader.Consumed;
            reader.TryReadHash(out txIds[i]);
            if (i > 0 && txIds[i].CompareTo(txIds[i - 1]) <= 0) return Fail(out failure, at);
        }
        if (!reader.TryReadCount(int.MaxValue, Hash256.Size + 1, out int count))
        {
            failure = reader.Failure;
            return false;
        }
        var loaded = new ObjectStore(count);
        Hash256 previous = default;
        for (int i = 0; i < count; i++)
        {
            int at = reader.Consumed;
            if (!reader.TryReadHash(out var id) || !reader.TryReadByte(out byte state))
            {
                failure = reader.Failure;
                return false;
            }
            if (i > 0 && id.CompareTo(previous) <= 0) return Fail(out failure, at);
            if (state is < (byte)ObjectState.Active or > (byte)ObjectState.Inactive) return Fail(out failure, at + Hash256.Size);
            previous = id;
            loaded.Insert(id, state == (byte)ObjectState.Inactive ? ObjectState.Inactive : ObjectState.Active);
            if (state != (byte)ObjectState.Locked) continue;
            int indexAt = reader.Consumed;
            if (!reader.TryReadVarUInt64(out ulong txIndex))
            {
                failure = reader.Failure;
                return false;
            }
            if (txIndex >= (ulong)txCount) return Fail(out failure, indexAt);
            txUsed[txIndex] = true;
            Invariant.Check(loaded.TryLock(new ReadOnlySpan<Hash256>(in id), txIds[txIndex]) == StoreResult.Ok);
        }
        if (!reader.TryExpectEnd())
        {
            failure = reader.Failure;
            return false;
        }
        if (Array.IndexOf(txUsed, false) is int unused and >= 0) return Fail(out failure, 2 + 8 + 1 + unused * Hash256.Size);
        store = loaded;
        failure = default;
        return true;
    }

    private static bool Fail(out CodecFailure failure, int offset)
    {
        failure = new CodecFailure(CodecError.InvalidValue, offset);
        return false;
    }

    private void Insert(in Hash256 id, ObjectState state)
    {
        EnsureCapacity(_count + 1);
        int index = ~Find(id);
        Invariant.Check(index >= 0);
        _entries[index] = new Entry { Id = id, LockSlot = NoSlot, NextInTx = -1, State = state };
        _count++;
        if (state == ObjectState.Active) _activeCount++;
    }

    // Scratch of snapshot plans, kept between checkpoints: a checkpoint sorts every object id, and fresh arrays
    // each time were megabytes of large-object-heap garbage per checkpoint, paid for in gen2 collections.
    private Hash256[] _planIds = [];
    private int[] _planPacked = [];
    private Hash256[] _planTxIds = [];
    private int[] _planSlots = [];
    private int[] _planSlotToTx = [];
    private readonly Hash256Sorter _planSorter = new();

    // Uninitialized (every element is written before it is read) and huge-page-advised: a checkpoint's first-touch
    // page faults were ~40 % of its cost (see LargeBuffers).
    private static T[] Scratch<T>(ref T[] array, int length) where T : unmanaged
    {
        if (array.Length < length) array = LargeBuffers.AllocateScratch<T>(length);
        return array;
    }

    /// <summary>The canonical order of a snapshot: objects and locking transactions sorted by id. It lives in the
    /// store's scratch arrays, so it is valid until the next plan.</summary>
    private readonly struct SnapshotPlan
    {
        private readonly Hash256[] _txIds;
        private readonly int _txCount;
        // Per sorted id: its state in the low 2 bits and, if locked, its lock slot above them. Carried through the
        // sort so that writing reads the plan in order, instead of visiting the (much larger) table at random.
        private readonly int[] _packed;
        private readonly int _count;
        private readonly int[] _slotToTx;   // lock slot → position in _txIds

        public SnapshotPlan(ObjectStore store)
        {
            _count = store._count;
            var ids = Scratch(ref store._planIds, _count).AsSpan(0, _count);
            _packed = Scratch(ref store._planPacked, _count);
            var packed = _packed.AsSpan(0, _count);
            Invariant.Check(store._locks.Length < 1 << 29);
            int n = 0;
            foreach (ref readonly var entry in store._entries.AsSpan())
            {
                if (entry.State == ObjectState.Absent) continue;
                ids[n] = entry.Id;
                packed[n++] = (int)entry.State | (entry.State == ObjectState.Locked ? entry.LockSlot << 2 : 0);
            }
            Invariant.Check(n == store._count);
            var sorter = store._planSorter;
            sorter.Sort(ids, packed);

            _txCount = store._lockingTransactions;
            _txIds = Scratch(ref store._planTxIds, _txCount);
            var txIds = _txIds.AsSpan(0, _txCount);
            var slots = Scratch(ref store._planSlots, _txCount).AsSpan(0, _txCount);
            int t = 0;
            foreach (int stored in store._lockIndex)
            {
                if (stored == 0) continue;
                txIds[t] = store._locks[stored - 1].TxId;
                slots[t++] = stored - 1;
            }
            sorter.Sort(txIds, slots);
            // Only the slots of locked entries are read back, and each is set here: no clearing needed.
            _slotToTx = Scratch(ref store._planSlotToTx, store._locks.Length);
            for (int i = 0; i < slots.Length; i++) _slotToTx[slots[i]] = i;

            int length = SnapshotFixedBytes + SpanWriter.VarintLength((ulong)_txCount) + _txCount * Hash256.Size
                + SpanWriter.VarintLength((ulong)_count) + _count * (Hash256.Size + 1);
            foreach (int p in packed)
            {
                if ((ObjectState)(p & 3) == ObjectState.Locked) length += SpanWriter.VarintLength((ulong)_slotToTx[p >> 2]);
            }
            Length = length;
        }

        public int Length { get; }

        public int Write(ObjectStore store, ulong sequence, Span<byte> destination)
        {
            var writer = new SpanWriter(destination[..Length]);
            writer.WriteFormatHeader();
            writer.WriteUInt64LittleEndian(sequence);
            writer.WriteVarUInt64((ulong)_txCount);
            foreach (var txId in _txIds.AsSpan(0, _txCount)) writer.WriteHash(txId);
            writer.WriteVarUInt64((ulong)_count);
            var ids = store._planIds.AsSpan(0, _count);
            var packed = _packed.AsSpan(0, _count);
            for (int i = 0; i < ids.Length; i++)
            {
                var state = (ObjectState)(packed[i] & 3);
                writer.WriteHash(ids[i]);
                writer.WriteByte((byte)state);
                if (state == ObjectState.Locked) writer.WriteVarUInt64((ulong)_slotToTx[packed[i] >> 2]);
            }
            var digest = Hashing.Sha256(writer.WrittenSpan);
            writer.WriteHash(digest);
            Invariant.Check(writer.Written == Length);
            return writer.Written;
        }
    }
}
