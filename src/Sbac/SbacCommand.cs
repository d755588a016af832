using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac;

/// <summary>What a shard's ordered log can contain (DESIGN.md, "Protocol, concretely"). Wire values.</summary>
public enum SbacCommandKind : byte
{
    /// <summary>TxPrepare(T): the body; every replica reaches the same local vote.</summary>
    Prepare = 1,
    /// <summary>TxAccept(T, decision, proofs): the cross-shard decision, with its evidence.</summary>
    Accept = 2,
    /// <summary>TxCreate(T, proofs): outputs for a shard T does not concern, on ALLPREPARED(commit).</summary>
    Create = 3,
}

/// <summary>
/// A decoded command: spans into the operation bytes of a PBFT request, no copies.
///
/// Command  := u8 version ‖ u8 algorithm ‖ u8 kind ‖ body
/// Prepare  := blob transaction
/// Accept   := Hash256 txId ‖ u8 decision ‖ proofs
/// Create   := blob transaction ‖ proofs
/// proofs   := varint n ‖ LocalPreparedProof × n   (format in <see cref="LocalPreparedProof"/>)
/// </summary>
public readonly ref struct SbacCommand
{
    public SbacCommandKind Kind { get; init; }
    /// <summary>Prepare and Create: the encoded transaction.</summary>
    public ReadOnlySpan<byte> Transaction { get; init; }
    /// <summary>Accept: the transaction the decision is about.</summary>
    public Hash256 TransactionId { get; init; }
    public Decision Decision { get; init; }
    /// <summary>Accept and Create: the encoded proof list (count and proofs).</summary>
    public ReadOnlySpan<byte> Proofs { get; init; }
    public int ProofCount { get; init; }

    /// <summary>Most proofs a command may carry: one per shard, bounded by the cluster size.</summary>
    public const int ProofsMax = 1024;

    public static bool TryDecode(ReadOnlySpan<byte> operation, CodecLimits limits, out SbacCommand command, out CodecFailure failure)
    {
        command = default;
        var reader = new SpanReader(operation);
        if (!reader.TryReadFormatHeader() || !reader.TryReadByte(out byte kind))
        {
            failure = reader.Failure;
            return false;
        }
        ReadOnlySpan<byte> tx = default, proofs = default;
        Hash256 txId = default;
        var decision = Decision.Commit;
        int proofCount = 0;
        switch ((SbacCommandKind)kind)
        {
            case SbacCommandKind.Prepare:
                if (!reader.TryReadBlob(limits.TransactionBytesMax, out tx)) break;
                reader.TryExpectEnd();
                break;
            case SbacCommandKind.Accept:
                if (!reader.TryReadHash(out txId) || !reader.TryReadByte(out byte d)) break;
                if (!DecisionExtensions.IsDefined(d))
                {
                    reader.Fail(CodecError.InvalidValue, reader.Consumed - 1);
                    break;
                }
                decision = (Decision)d;
                if (TryReadProofs(operation, reader.Consumed, out proofCount, out var acceptFailure)) proofs = operation[reader.Consumed..];
                else reader.Fail(acceptFailure.Error, acceptFailure.Offset);
                break;
            case SbacCommandKind.Create:
                if (!reader.TryReadBlob(limits.TransactionBytesMax, out tx)) break;
                if (TryReadProofs(operation, reader.Consumed, out proofCount, out var createFailure)) proofs = operation[reader.Consumed..];
                else reader.Fail(createFailure.Error, createFailure.Offset);
                break;
            default:
                reader.Fail(CodecError.InvalidValue, 2);
                break;
        }
        failure = reader.Failure;
        if (failure.IsError) return false;
        command = new SbacCommand
        {
            Kind = (SbacCommandKind)kind,
            Transaction = tx,
            TransactionId = txId,
            Decision = decision,
            Proofs = proofs,
            ProofCount = proofCount,
        };
        return true;
    }

    /// <summary>Checks a proof list that runs from <paramref name="start"/> to the end of the operation.</summary>
    private static bool TryReadProofs(ReadOnlySpan<byte> operation, int start, out int count, out CodecFailure failure)
    {
        var reader = new SpanReader(operation[start..]);
        failure = default;
        if (!reader.TryReadCount(ProofsMax, LocalPreparedProof.MinEncodedBytes, out count))
        {
            failure = reader.Failure with { Offset = start + reader.Failure.Offset };
            return false;
        }
        // Each proof is checked structurally now, so later passes can trust the layout.
        for (int i = 0; i < count; i++)
        {
            int at = reader.Consumed;
            if (!LocalPreparedProof.TrySkip(operation[(start + at)..], out int length, out var proofFailure))
            {
                failure = new CodecFailure(proofFailure.Error, start + at + proofFailure.Offset);
                return false;
            }
            reader.TryReadBytes(length, out _);
        }
        if (!reader.End)
        {
            failure = new CodecFailure(CodecError.TrailingBytes, start + reader.Consumed);
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------ encoding

    public static void WritePrepare(IBufferWriter<byte> output, ReadOnlySpan<byte> transaction)
    {
        int length = 3 + SpanWriter.BlobLength(transaction.Length);
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        WriteHeader(ref w, SbacCommandKind.Prepare);
        w.WriteBlob(transaction);
        output.Advance(length);
    }

    public static void WriteAccept(IBufferWriter<byte> output, in Hash256 transactionId, Decision decision, ReadOnlySpan<byte> encodedProofs)
    {
        int length = 3 + Hash256.Size + 1 + encodedProofs.Length;
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        WriteHeader(ref w, SbacCommandKind.Accept);
        w.WriteHash(transactionId);
        w.WriteByte((byte)decision);
        w.WriteBytes(encodedProofs);
        output.Advance(length);
    }

    public static void WriteCreate(IBufferWriter<byte> output, ReadOnlySpan<byte> transaction, ReadOnlySpan<byte> encodedProofs)
    {
        int length = 3 + SpanWriter.BlobLength(transaction.Length) + encodedProofs.Length;
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        WriteHeader(ref w, SbacCommandKind.Create);
        w.WriteBlob(transaction);
        w.WriteBytes(encodedProofs);
        output.Advance(length);
    }

    private static void WriteHeader(ref SpanWriter w, SbacCommandKind kind)
    {
        w.WriteFormatHeader();
        w.WriteByte((byte)kind);
    }
}
