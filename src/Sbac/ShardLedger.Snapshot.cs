using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Memory;
using Chainspace.Core.Codec;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac;

/// <summary>
/// Snapshots and the state digest: what PBFT checkpoints agree on and what state transfer moves.
///
/// Snapshot := u8 version ‖ u8 algorithm ‖ varint shard ‖ varint sequence ‖ blob objectStoreSnapshot ‖
///             varint txCount ‖ (Hash256 txId ‖ u8 vote ‖ u8 final ‖ u8 holdsLocks ‖ blob body) × m
/// The object store writes its own canonical snapshot; transactions ascend by id, so equal states give
/// equal bytes; digest = H('S' ‖ v ‖ alg ‖ snapshot), which a
/// replica receiving a snapshot can check against the stable checkpoint's digest. Built at checkpoints
/// only (O(state): ids are radix-sorted, see Hash256Sorter), never per transaction.
/// </summary>
public sealed partial class ShardLedger
{
    // Reused by every digest that is not a checkpoint's (genesis, the check after a restore): grows with the state.
    private readonly ArrayBufferWriter<byte> _snapshotBuffer = new(64 * 1024);
    // The transaction table in canonical order: ids sorted with each one's position in _snapshotRecords, gathered
    // in one pass over the table (a lookup per sorted id was a cache miss per transaction).
    private Hash256[] _snapshotKeys = new Hash256[1024];
    private int[] _snapshotOrder = new int[1024];
    private TxRecord[] _snapshotRecords = new TxRecord[1024];
    private readonly Hash256Sorter _sorter = new();
    private int _plannedTransactions;
    private int _plannedStoreLength;

    // The digest of the last snapshot built, and whether _snapshotBuffer holds that snapshot (StateDigest builds it
    // there; a checkpoint builds it in the caller's buffer). Any state change (a new batch, a restore) invalidates both.
    private ulong _snapshotSequence;
    private Hash256 _snapshotDigest;
    private bool _snapshotValid;
    private bool _snapshotBuffered;

    /// <summary>Writes the snapshot after <paramref name="sequence"/>: a copy if the last digest built it, else built.</summary>
    public void WriteSnapshot(IBufferWriter<byte> output, ulong sequence)
    {
        if (_snapshotValid && _snapshotBuffered && _snapshotSequence == sequence)
        {
            // One GetSpan for the whole snapshot: Write() would ask for whatever the writer has free and make an
            // ArrayBufferWriter double its way up to the state's size, a large-object allocation per step.
            var snapshot = _snapshotBuffer.WrittenSpan;
            snapshot.CopyTo(output.GetSpan(snapshot.Length));
            output.Advance(snapshot.Length);
            return;
        }
        BuildSnapshot(output, sequence);
    }

    /// <summary>
    /// A checkpoint's snapshot and digest in one pass: the snapshot is built straight into
    /// <paramref name="output"/> (where the replica keeps it) with one exact-size GetSpan and hashed there, so a
    /// checkpoint neither copies the state nor grows a second buffer of its size (on this kind of VM first-touching
    /// fresh memory costs ~10 µs per page: tens of milliseconds per checkpoint). Returns the digest
    /// <see cref="StateDigest"/> gives for the same state.
    /// </summary>
    public Hash256 WriteCheckpoint(IBufferWriter<byte> output, ulong sequence)
    {
        var snapshot = BuildSnapshot(output, sequence);
        _snapshotDigest = DigestOf(snapshot);
        _snapshotSequence = sequence;
        _snapshotValid = true;
        _snapshotBuffered = false;
        return _snapshotDigest;
    }

    /// <summary>The digest of the state after <paramref name="sequence"/> (the snapshot's hash).
    /// O(state); allocates only when the state outgrows the reused buffers.</summary>
    public Hash256 StateDigest(ulong sequence)
    {
        if (_snapshotValid && _snapshotSequence == sequence) return _snapshotDigest;
        _snapshotBuffer.ResetWrittenCount();
        _snapshotDigest = DigestOf(BuildSnapshot(_snapshotBuffer, sequence));
        _snapshotSequence = sequence;
        _snapshotValid = true;
        _snapshotBuffered = true;
        return _snapshotDigest;
    }

    /// <summary>Builds the canonical snapshot into one exact-size span of <paramref name="output"/>, advances it,
    /// and returns the bytes written (valid until the writer is next used).</summary>
    private ReadOnlySpan<byte> BuildSnapshot(IBufferWriter<byte> output, ulong sequence)
    {
        int length = PlanSnapshot(sequence);
        var span = output.GetSpan(length)[..length];
        WritePlannedSnapshot(span, sequence);
        output.Advance(length);
        return span;
    }

    /// <summary>Sorts the store and the transaction table into canonical order; returns the snapshot's exact length.</summary>
    private int PlanSnapshot(ulong sequence)
    {
        Invariant.Check(!_inBatch);
        int count = _transactions.Count;
        if (_snapshotKeys.Length < count)
        {
            _snapshotKeys = LargeBuffers.AllocateScratch<Hash256>(count);   // written before read (see LargeBuffers)
            _snapshotOrder = LargeBuffers.AllocateScratch<int>(count);
            _snapshotRecords = new TxRecord[_snapshotKeys.Length];   // holds references: a managed array
        }
        int gathered = 0;
        long recordBytes = 0;
        foreach (var (txId, record) in _transactions)
        {
            _snapshotKeys[gathered] = txId;
            _snapshotOrder[gathered] = gathered;
            _snapshotRecords[gathered++] = record;
            int bodyLength = record.Body is null ? 0 : record.BodyLength;
            recordBytes += Hash256.Size + 3 + SpanWriter.BlobLength(bodyLength);
        }
        _plannedTransactions = count;
        _sorter.Sort(_snapshotKeys.AsSpan(0, count), _snapshotOrder.AsSpan(0, count));
        _plannedStoreLength = _objects.PlanSnapshot();
        long length = 2 + SpanWriter.VarintLength(Shard) + SpanWriter.VarintLength(sequence) + SpanWriter.BlobLength(_plannedStoreLength)
            + SpanWriter.VarintLength((ulong)count) + recordBytes;
        Invariant.Check(length <= Array.MaxLength);
        return (int)length;
    }

    private void WritePlannedSnapshot(Span<byte> destination, ulong sequence)
    {
        var w = new SpanWriter(destination);
        w.WriteByte(FormatVersion.V1);
        w.WriteByte((byte)Hashing.Algorithm);
        w.WriteVarUInt64(Shard);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64((ulong)_plannedStoreLength);
        int storeAt = w.Written;
        Invariant.Check(_objects.WritePlannedSnapshot(sequence, destination.Slice(storeAt, _plannedStoreLength)) == _plannedStoreLength);
        var rest = new SpanWriter(destination[(storeAt + _plannedStoreLength)..]);
        int count = _plannedTransactions;
        rest.WriteVarUInt64((ulong)count);
        var keys = _snapshotKeys.AsSpan(0, count);
        var order = _snapshotOrder.AsSpan(0, count);
        for (int i = 0; i < count; i++)
        {
            ref readonly var record = ref _snapshotRecords[order[i]];
            rest.WriteHash(keys[i]);
            rest.WriteByte(record.Vote is { } v ? (byte)v : (byte)0);
            rest.WriteByte(record.Final is { } f ? (byte)f : (byte)0);
            rest.WriteByte(record.HoldsLocks ? (byte)1 : (byte)0);
            rest.WriteBlob(record.Body is { } b ? b.AsSpan(0, record.BodyLength) : default);
        }
        Invariant.Check(storeAt + _plannedStoreLength + rest.Written == destination.Length);
        // The scratch must not keep pooled bodies reachable (or alive past their return to the pool).
        Array.Clear(_snapshotRecords, 0, count);
    }

    public static Hash256 DigestOf(ReadOnlySpan<byte> snapshot) => Hashing.Domain(HashDomain.State, snapshot);

    /// <summary>
    /// Replaces the whole state with a snapshot. The snapshot is checked completely before anything
    /// changes: a malformed one leaves the ledger as it was and reports why.
    /// </summary>
    public bool TryRestoreSnapshot(ReadOnlySpan<byte> snapshot, out ulong sequence, out CodecFailure failure)
    {
        Invariant.Check(!_inBatch);
        if (!TryReadSnapshot(snapshot, apply: false, out sequence, out _, out failure)) return false;
        foreach (var record in _transactions.Values)
        {
            if (record.Body is { } body) _bodyPool.Return(body);
        }
        _transactions.Clear();
        Invariant.Check(TryReadSnapshot(snapshot, apply: true, out sequence, out var objects, out failure));
        _objects = objects!;
        _snapshotValid = false;
        _batchSequence = sequence;
        _batchVoteCount = _batchDecisionCount = 0;
        _lockHolders = 0;
        foreach (var record in _transactions.Values)
        {
            if (record.HoldsLocks) _lockHolders++;
        }
        return true;
    }

    private bool TryReadSnapshot(ReadOnlySpan<byte> snapshot, bool apply, out ulong sequence, out ObjectStore? objects, out CodecFailure failure)
    {
        var r = new SpanReader(snapshot);
        sequence = 0;
        objects = null;
        if (!r.TryReadFormatHeader() || !r.TryReadVarUInt64(out ulong shard) || !r.TryReadVarUInt64(out sequence)
            || !r.TryReadBlob(int.MaxValue, out var storeSnapshot))
        {
            failure = r.Failure;
            return false;
        }
        if (shard != Shard)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        int storeOffset = r.Consumed - storeSnapshot.Length;
        if (!ObjectStore.TryLoadSnapshot(storeSnapshot, out objects, out ulong storeSequence, out var storeFailure))
        {
            failure = storeFailure with { Offset = storeOffset + storeFailure.Offset };
            return false;
        }
        if (storeSequence != sequence)
        {
            failure = new CodecFailure(CodecError.InvalidValue, storeOffset);
            return false;
        }
        Hash256 previous = default;
        if (!r.TryReadVarUInt64(out ulong txCount) || txCount > (ulong)r.Remaining / (Hash256.Size + 4))
        {
            failure = r.Failure.IsError ? r.Failure : new CodecFailure(CodecError.Truncated, r.Consumed);
            return false;
        }
        int holders = 0;
        for (ulong i = 0; i < txCount; i++)
        {
            int at = r.Consumed;
            if (!r.TryReadHash(out var txId) || !r.TryReadByte(out byte vote) || !r.TryReadByte(out byte final)
                || !r.TryReadByte(out byte holdsLocks) || !r.TryReadBlob(_options.Limits.TransactionBytesMax, out var body))
            {
                failure = r.Failure;
                return false;
            }
            if ((i > 0 && txId.CompareTo(previous) <= 0) || (vote != 0 && !DecisionExtensions.IsDefined(vote))
                || (final != 0 && !DecisionExtensions.IsDefined(final)) || holdsLocks > 1
                || (holdsLocks == 1 && (vote != (byte)Decision.Commit || final != 0)))
            {
                failure = new CodecFailure(CodecError.InvalidValue, at);
                return false;
            }
            previous = txId;
            holders += holdsLocks;
            if (apply)
            {
                var record = new TxRecord
                {
                    Vote = vote == 0 ? null : (Decision)vote,
                    Final = final == 0 ? null : (Decision)final,
                    HoldsLocks = holdsLocks == 1,
                };
                if (!body.IsEmpty)
                {
                    record.Body = _bodyPool.Rent(body.Length);
                    record.BodyLength = body.Length;
                    body.CopyTo(record.Body);
                }
                _transactions[txId] = record;
            }
        }
        // The locks in the store and the transactions said to hold them must agree.
        if (holders != objects!.LockingTransactions)
        {
            failure = new CodecFailure(CodecError.InvalidValue, storeOffset);
            return false;
        }
        if (!r.TryExpectEnd())
        {
            failure = r.Failure;
            return false;
        }
        failure = default;
        return true;
    }
}
