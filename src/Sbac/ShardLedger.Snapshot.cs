using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac;

/// <summary>
/// Snapshots and the state digest: what PBFT checkpoints agree on and what state transfer moves.
///
/// Snapshot := u8 version ‖ u8 algorithm ‖ varint shard ‖ varint sequence ‖
///             varint objectCount ‖ (Hash256 id ‖ u8 status ‖ [Hash256 lockedBy if locked]) × n ‖
///             varint txCount ‖ (Hash256 txId ‖ u8 vote ‖ u8 final ‖ blob body) × m
/// Entries ascend by id, so equal states give equal bytes; digest = H('S' ‖ v ‖ alg ‖ snapshot), which a
/// replica receiving a snapshot can check against the stable checkpoint's digest. Built at checkpoints
/// only (O(n log n)), never per transaction.
/// </summary>
public sealed partial class ShardLedger
{
    public void WriteSnapshot(IBufferWriter<byte> output, ulong sequence)
    {
        Invariant.Check(!_inBatch);
        var objects = _objects.Entries().ToList();
        var transactions = _transactions.OrderBy(kv => kv.Key).ToList();
        var header = output.GetSpan(2);
        header[0] = FormatVersion.V1;
        header[1] = (byte)Hashing.Algorithm;
        output.Advance(2);
        PutVarint(output, Shard);
        PutVarint(output, sequence);
        PutVarint(output, (ulong)objects.Count);
        foreach (var (id, status, lockedBy) in objects)
        {
            var span = output.GetSpan(1 + 2 * Hash256.Size);
            id.WriteTo(span);
            span[Hash256.Size] = (byte)status;
            int length = Hash256.Size + 1;
            if (status == ObjectStatus.Locked)
            {
                lockedBy.WriteTo(span[length..]);
                length += Hash256.Size;
            }
            output.Advance(length);
        }
        PutVarint(output, (ulong)transactions.Count);
        foreach (var (txId, record) in transactions)
        {
            var span = output.GetSpan(Hash256.Size + 2);
            txId.WriteTo(span);
            span[Hash256.Size] = record.Vote is { } v ? (byte)v : (byte)0;
            span[Hash256.Size + 1] = record.Final is { } f ? (byte)f : (byte)0;
            output.Advance(Hash256.Size + 2);
            var body = record.Body is { } b ? b.AsSpan(0, record.BodyLength) : default;
            PutVarint(output, (ulong)body.Length);
            output.Write(body);
        }
    }

    /// <summary>The digest of the state after <paramref name="sequence"/> (the snapshot's hash).</summary>
    public Hash256 StateDigest(ulong sequence)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteSnapshot(buffer, sequence);
        return Hashing.Domain(HashDomain.State, buffer.WrittenSpan);
    }

    public static Hash256 DigestOf(ReadOnlySpan<byte> snapshot) => Hashing.Domain(HashDomain.State, snapshot);

    /// <summary>
    /// Replaces the whole state with a snapshot. The snapshot is checked completely before anything
    /// changes: a malformed one leaves the ledger as it was and reports why.
    /// </summary>
    public bool TryRestoreSnapshot(ReadOnlySpan<byte> snapshot, out ulong sequence, out CodecFailure failure)
    {
        Invariant.Check(!_inBatch);
        sequence = 0;
        if (!TryReadSnapshot(snapshot, apply: false, out sequence, out failure)) return false;
        foreach (var record in _transactions.Values)
        {
            if (record.Body is { } body) ArrayPool<byte>.Shared.Return(body);
        }
        _transactions.Clear();
        _objects.Clear();
        Invariant.Check(TryReadSnapshot(snapshot, apply: true, out sequence, out failure));
        _batchSequence = sequence;
        _batchVoteCount = _batchDecisionCount = 0;
        return true;
    }

    private bool TryReadSnapshot(ReadOnlySpan<byte> snapshot, bool apply, out ulong sequence, out CodecFailure failure)
    {
        var r = new SpanReader(snapshot);
        sequence = 0;
        if (!r.TryReadFormatHeader() || !r.TryReadVarUInt64(out ulong shard) || !r.TryReadVarUInt64(out sequence)
            || !r.TryReadVarUInt64(out ulong objectCount))
        {
            failure = r.Failure;
            return false;
        }
        if (shard != Shard)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        if (objectCount > (ulong)r.Remaining / (Hash256.Size + 1))
        {
            failure = new CodecFailure(CodecError.Truncated, r.Consumed);
            return false;
        }
        Hash256 previous = default;
        for (ulong i = 0; i < objectCount; i++)
        {
            int at = r.Consumed;
            if (!r.TryReadHash(out var id) || !r.TryReadByte(out byte status))
            {
                failure = r.Failure;
                return false;
            }
            if ((i > 0 && id.CompareTo(previous) <= 0) || status is 0 or > (byte)ObjectStatus.Inactive)
            {
                failure = new CodecFailure(CodecError.InvalidValue, at);
                return false;
            }
            previous = id;
            Hash256 lockedBy = default;
            if (status == (byte)ObjectStatus.Locked && !r.TryReadHash(out lockedBy))
            {
                failure = r.Failure;
                return false;
            }
            if (apply) _objects.Restore(id, (ObjectStatus)status, lockedBy);
        }
        if (!r.TryReadVarUInt64(out ulong txCount) || txCount > (ulong)r.Remaining / (Hash256.Size + 3))
        {
            failure = r.Failure.IsError ? r.Failure : new CodecFailure(CodecError.Truncated, r.Consumed);
            return false;
        }
        for (ulong i = 0; i < txCount; i++)
        {
            int at = r.Consumed;
            if (!r.TryReadHash(out var txId) || !r.TryReadByte(out byte vote) || !r.TryReadByte(out byte final)
                || !r.TryReadBlob(_options.Limits.TransactionBytesMax, out var body))
            {
                failure = r.Failure;
                return false;
            }
            if ((i > 0 && txId.CompareTo(previous) <= 0) || (vote != 0 && !DecisionExtensions.IsDefined(vote))
                || (final != 0 && !DecisionExtensions.IsDefined(final)))
            {
                failure = new CodecFailure(CodecError.InvalidValue, at);
                return false;
            }
            previous = txId;
            if (apply)
            {
                var record = new TxRecord
                {
                    Vote = vote == 0 ? null : (Decision)vote,
                    Final = final == 0 ? null : (Decision)final,
                };
                if (!body.IsEmpty)
                {
                    record.Body = ArrayPool<byte>.Shared.Rent(body.Length);
                    record.BodyLength = body.Length;
                    body.CopyTo(record.Body);
                }
                _transactions[txId] = record;
            }
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
