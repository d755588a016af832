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
    /// <summary>
    /// Several Creates for one shard in one request, each entry exactly a Create's body and decided on its own.
    /// The initiator proposes the outputs of a whole executed batch this way: the output shard then orders, logs
    /// and acknowledges one request for all of them instead of one per transaction (a Create per transaction was
    /// ~40 % of the node's CPU per transaction in the default load, where half the outputs land in the other shard).
    /// </summary>
    Creates = 4,
}

/// <summary>
/// A decoded command: spans into the operation bytes of a PBFT request, no copies.
///
/// Command  := u8 version ‖ u8 algorithm ‖ u8 kind ‖ body
/// Prepare  := blob transaction
/// Accept   := Hash256 txId ‖ u8 decision ‖ proofs
/// Create   := blob transaction ‖ proofs
/// Creates  := varint n ‖ (blob transaction ‖ proofs) × n      (n ≥ 1; each entry is a Create's body)
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
    /// <summary>Creates: the encoded entries (after the count), checked by <see cref="TryDecode"/>; read them with <see cref="EnumerateCreates"/>.</summary>
    public ReadOnlySpan<byte> Entries { get; init; }
    public int EntryCount { get; init; }

    /// <summary>Most proofs a command may carry: one per shard, bounded by the cluster size.</summary>
    public const int ProofsMax = 1024;

    /// <summary>Most entries of one Creates command.</summary>
    public const int CreatesMax = 4096;

    /// <summary>Bytes in front of a Creates command's entries when it holds at most <see cref="CreatesMax"/> of them.</summary>
    public static readonly int CreatesHeaderBytesMax = 3 + SpanWriter.VarintLength(CreatesMax);

    /// <summary>Smallest encoded Create entry: a one-byte transaction blob and an empty proof list.</summary>
    private const int CreateEntryBytesMin = 3;

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
        int proofCount = 0, entryCount = 0, entriesStart = 0;
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
            case SbacCommandKind.Creates:
                if (!reader.TryReadCount(CreatesMax, CreateEntryBytesMin, out entryCount)) break;
                if (entryCount == 0)
                {
                    reader.Fail(CodecError.InvalidValue, reader.Consumed - 1);
                    break;
                }
                entriesStart = reader.Consumed;
                // Every entry is checked structurally now, so the enumerator can trust the layout.
                for (int i = 0; i < entryCount && !reader.Failure.IsError; i++)
                {
                    if (!reader.TryReadBlob(limits.TransactionBytesMax, out _)) break;
                    if (TryReadProofList(operation, reader.Consumed, out _, out int listLength, out var entryFailure)) reader.TryReadBytes(listLength, out _);
                    else reader.Fail(entryFailure.Error, entryFailure.Offset);
                }
                if (!reader.Failure.IsError) reader.TryExpectEnd();
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
            Entries = (SbacCommandKind)kind == SbacCommandKind.Creates ? operation[entriesStart..] : default,
            EntryCount = entryCount,
        };
        return true;
    }

    /// <summary>The entries of a Creates command that <see cref="TryDecode"/> accepted, in order.</summary>
    public CreateEnumerator EnumerateCreates() => new(Entries, EntryCount);

    /// <summary>One Create body after another: <see cref="Transaction"/>, then its <see cref="Proofs"/> (count and proofs).</summary>
    public ref struct CreateEnumerator(ReadOnlySpan<byte> entries, int count)
    {
        private readonly ReadOnlySpan<byte> _entries = entries;
        private SpanReader _reader = new(entries);
        private int _left = count;
        public ReadOnlySpan<byte> Transaction { get; private set; }
        public ReadOnlySpan<byte> Proofs { get; private set; }
        public int ProofCount { get; private set; }

        public bool MoveNext()
        {
            if (_left == 0) return false;
            _left--;
            _reader.TryReadBlob(int.MaxValue, out var tx);
            int at = _reader.Consumed;
            TryReadProofList(_entries, at, out int proofCount, out int length, out _);
            _reader.TryReadBytes(length, out var proofs);
            Transaction = tx;
            Proofs = proofs;
            ProofCount = proofCount;
            return true;
        }
    }

    /// <summary>Checks a proof list that runs from <paramref name="start"/> to the end of the operation.</summary>
    private static bool TryReadProofs(ReadOnlySpan<byte> operation, int start, out int count, out CodecFailure failure)
    {
        if (!TryReadProofList(operation, start, out count, out int length, out failure)) return false;
        if (start + length != operation.Length)
        {
            failure = new CodecFailure(CodecError.TrailingBytes, start + length);
            return false;
        }
        return true;
    }

    /// <summary>Checks the proof list at <paramref name="start"/>; <paramref name="length"/> is its encoded size.</summary>
    private static bool TryReadProofList(ReadOnlySpan<byte> operation, int start, out int count, out int length, out CodecFailure failure)
    {
        var reader = new SpanReader(operation[start..]);
        failure = default;
        length = 0;
        if (!reader.TryReadCount(ProofsMax, LocalPreparedProof.MinEncodedBytes, out count))
        {
            failure = reader.Failure with { Offset = start + reader.Failure.Offset };
            return false;
        }
        // Each proof is checked structurally now, so later passes can trust the layout.
        for (int i = 0; i < count; i++)
        {
            int at = reader.Consumed;
            if (!LocalPreparedProof.TrySkip(operation[(start + at)..], out int proofLength, out var proofFailure))
            {
                failure = new CodecFailure(proofFailure.Error, start + at + proofFailure.Offset);
                return false;
            }
            reader.TryReadBytes(proofLength, out _);
        }
        length = reader.Consumed;
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

    /// <summary>A Creates command of <paramref name="count"/> entries, each written by <see cref="WriteCreateEntry"/>.</summary>
    public static void WriteCreates(IBufferWriter<byte> output, int count, ReadOnlySpan<byte> encodedEntries)
    {
        if (count is < 1 or > CreatesMax) throw new ArgumentOutOfRangeException(nameof(count), $"1..{CreatesMax} entries");
        int length = 3 + SpanWriter.VarintLength((ulong)count) + encodedEntries.Length;
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        WriteHeader(ref w, SbacCommandKind.Creates);
        w.WriteVarUInt64((ulong)count);
        w.WriteBytes(encodedEntries);
        output.Advance(length);
    }

    /// <summary>One entry of a Creates command: the same bytes as a Create's body.</summary>
    public static int CreateEntryLength(int transactionLength, int encodedProofsLength) => SpanWriter.BlobLength(transactionLength) + encodedProofsLength;

    /// <summary>Appends one entry of a Creates command (see <see cref="WriteCreates"/>).</summary>
    public static void WriteCreateEntry(IBufferWriter<byte> output, ReadOnlySpan<byte> transaction, ReadOnlySpan<byte> encodedProofs)
    {
        int length = CreateEntryLength(transaction.Length, encodedProofs.Length);
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        w.WriteBlob(transaction);
        w.WriteBytes(encodedProofs);
        output.Advance(length);
    }

    /// <summary>A Create command whose body (transaction and proofs) is already encoded, as by <see cref="WriteCreateEntry"/>.</summary>
    public static void WriteCreate(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedEntry)
    {
        int length = 3 + encodedEntry.Length;
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        WriteHeader(ref w, SbacCommandKind.Create);
        w.WriteBytes(encodedEntry);
        output.Advance(length);
    }

    public static void WriteCreate(IBufferWriter<byte> output, ReadOnlySpan<byte> transaction, ReadOnlySpan<byte> encodedProofs)
    {
        var w = new SpanWriter(output.GetSpan(3)[..3]);
        WriteHeader(ref w, SbacCommandKind.Create);
        output.Advance(3);
        WriteCreateEntry(output, transaction, encodedProofs);
    }

    private static void WriteHeader(ref SpanWriter w, SbacCommandKind kind)
    {
        w.WriteFormatHeader();
        w.WriteByte((byte)kind);
    }
}
