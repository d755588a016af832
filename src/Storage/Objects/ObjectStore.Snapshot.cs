using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Codec;

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
    private int[] _planEntryIndex = [];
    private Hash256[] _planTxIds = [];
    private int[] _planSlots = [];
    private int[] _planSlotToTx = [];

    private static T[] Scratch<T>(ref T[] array, int length)
    {
        if (array.Length < length) array = new T[Math.Max(length, (int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length), Array.MaxLength))];
        return array;
    }

    /// <summary>The canonical order of a snapshot: objects and locking transactions sorted by id. It lives in the
    /// store's scratch arrays, so it is valid until the next plan.</summary>
    private readonly struct SnapshotPlan
    {
        private readonly Hash256[] _txIds;
        private readonly int _txCount;
        private readonly int[] _entryIndex;
        private readonly int _count;
        private readonly int[] _slotToTx;   // lock slot → position in _txIds

        public SnapshotPlan(ObjectStore store)
        {
            _count = store._count;
            var ids = Scratch(ref store._planIds, _count).AsSpan(0, _count);
            _entryIndex = Scratch(ref store._planEntryIndex, _count);
            var entryIndex = _entryIndex.AsSpan(0, _count);
            int n = 0;
            for (int i = 0; i < store._entries.Length; i++)
            {
                if (store._entries[i].State == ObjectState.Absent) continue;
                ids[n] = store._entries[i].Id;
                entryIndex[n++] = i;
            }
            Invariant.Check(n == store._count);
            ids.Sort(entryIndex);

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
            txIds.Sort(slots);
            // Only the slots of locked entries are read back, and each is set here: no clearing needed.
            _slotToTx = Scratch(ref store._planSlotToTx, store._locks.Length);
            for (int i = 0; i < slots.Length; i++) _slotToTx[slots[i]] = i;

            int length = SnapshotFixedBytes + SpanWriter.VarintLength((ulong)_txCount) + _txCount * Hash256.Size
                + SpanWriter.VarintLength((ulong)_count) + _count * (Hash256.Size + 1);
            foreach (int index in entryIndex)
            {
                ref readonly var entry = ref store._entries[index];
                if (entry.State == ObjectState.Locked) length += SpanWriter.VarintLength((ulong)_slotToTx[entry.LockSlot]);
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
            foreach (int index in _entryIndex.AsSpan(0, _count))
            {
                ref readonly var entry = ref store._entries[index];
                writer.WriteHash(entry.Id);
                writer.WriteByte((byte)entry.State);
                if (entry.State == ObjectState.Locked) writer.WriteVarUInt64((ulong)_slotToTx[entry.LockSlot]);
            }
            var digest = Hashing.Sha256(writer.WrittenSpan);
            writer.WriteHash(digest);
            Invariant.Check(writer.Written == Length);
            return writer.Written;
        }
    }
}
