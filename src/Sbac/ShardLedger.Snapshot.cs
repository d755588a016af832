using System.Buffers;
using System.Runtime.InteropServices;
using Chainspace.Core;
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
/// only (O(n log n)), never per transaction.
/// </summary>
public sealed partial class ShardLedger
{
    // Reused by every snapshot and digest (checkpoints): they grow with the state, never per checkpoint.
    private readonly ArrayBufferWriter<byte> _snapshotBuffer = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _objectsBuffer = new(64 * 1024);
    private Hash256[] _snapshotKeys = new Hash256[1024];

    // A checkpoint asks for the digest and then the snapshot of the same state: the snapshot built for the
    // digest is kept and copied out, instead of being built twice. Any state change (a new batch, a restore)
    // invalidates it.
    private ulong _snapshotSequence;
    private Hash256 _snapshotDigest;
    private bool _snapshotValid;

    public void WriteSnapshot(IBufferWriter<byte> output, ulong sequence)
    {
        if (_snapshotValid && _snapshotSequence == sequence)
        {
            // One GetSpan for the whole snapshot: Write() would ask for whatever the writer has free and make an
            // ArrayBufferWriter double its way up to the state's size, a large-object allocation per step.
            var snapshot = _snapshotBuffer.WrittenSpan;
            snapshot.CopyTo(output.GetSpan(snapshot.Length));
            output.Advance(snapshot.Length);
            return;
        }
        WriteSnapshotCore(output, sequence);
    }

    private void WriteSnapshotCore(IBufferWriter<byte> output, ulong sequence)
    {
        Invariant.Check(!_inBatch);
        int count = _transactions.Count;
        if (_snapshotKeys.Length < count) _snapshotKeys = new Hash256[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count)];
        _transactions.Keys.CopyTo(_snapshotKeys, 0);
        var keys = _snapshotKeys.AsSpan(0, count);
        keys.Sort();
        var header = output.GetSpan(2);
        header[0] = FormatVersion.V1;
        header[1] = (byte)Hashing.Algorithm;
        output.Advance(2);
        PutVarint(output, Shard);
        PutVarint(output, sequence);
        _objectsBuffer.ResetWrittenCount();
        _objects.WriteSnapshot(sequence, _objectsBuffer);
        PutVarint(output, (ulong)_objectsBuffer.WrittenCount);
        output.Write(_objectsBuffer.WrittenSpan);
        PutVarint(output, (ulong)count);
        foreach (ref readonly var txId in keys)
        {
            ref readonly var record = ref CollectionsMarshal.GetValueRefOrNullRef(_transactions, txId);
            var span = output.GetSpan(Hash256.Size + 3);
            txId.WriteTo(span);
            span[Hash256.Size] = record.Vote is { } v ? (byte)v : (byte)0;
            span[Hash256.Size + 1] = record.Final is { } f ? (byte)f : (byte)0;
            span[Hash256.Size + 2] = record.HoldsLocks ? (byte)1 : (byte)0;
            output.Advance(Hash256.Size + 3);
            var body = record.Body is { } b ? b.AsSpan(0, record.BodyLength) : default;
            PutVarint(output, (ulong)body.Length);
            output.Write(body);
        }
    }

    /// <summary>The digest of the state after <paramref name="sequence"/> (the snapshot's hash).
    /// O(state) at each checkpoint; allocates only when the state outgrows the reused buffers.</summary>
    public Hash256 StateDigest(ulong sequence)
    {
        if (_snapshotValid && _snapshotSequence == sequence) return _snapshotDigest;
        _snapshotBuffer.ResetWrittenCount();
        WriteSnapshotCore(_snapshotBuffer, sequence);
        _snapshotDigest = Hashing.Domain(HashDomain.State, _snapshotBuffer.WrittenSpan);
        _snapshotSequence = sequence;
        _snapshotValid = true;
        return _snapshotDigest;
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

    private static void PutVarint(IBufferWriter<byte> output, ulong value)
    {
        var w = new SpanWriter(output.GetSpan(10));
        w.WriteVarUInt64(value);
        output.Advance(w.Written);
    }
}
