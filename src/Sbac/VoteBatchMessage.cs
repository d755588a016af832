using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Crypto;

namespace Chainspace.Sbac;

/// <summary>
/// One replica's signed votes for one executed batch, as sent to the replicas of a concerned shard:
/// the batch statement (shard, sequence, leaf count, root) and its signature once, then only the
/// entries that concern the destination, each with its audit path. One signature covers the whole
/// batch, however many transactions it holds (DESIGN.md: votes are batched).
///
/// VoteBatch := u8 version ‖ u8 algorithm ‖ varint shard ‖ varint sequence ‖ varint leafCount ‖
///              Hash256 root ‖ varint signer ‖ 64 B signature ‖ varint n ‖ Entry × n
/// Entry     := Hash256 txId ‖ u8 decision ‖ varint leafIndex ‖ varint pathLength ‖ Hash256 × pathLength
/// </summary>
public readonly ref struct VoteBatchMessage
{
    public const int EntriesMax = 65536;
    private const int MinEntryBytes = Hash256.Size + 1 + 1 + 1;

    public uint Shard { get; init; }
    public ulong Sequence { get; init; }
    public ulong LeafCount { get; init; }
    public Hash256 Root { get; init; }
    public ushort Signer { get; init; }
    public ReadOnlySpan<byte> Signature { get; init; }
    public int EntryCount { get; init; }
    /// <summary>The encoded entries, checked by <see cref="TryDecode"/>.</summary>
    public ReadOnlySpan<byte> Entries { get; init; }

    public static bool TryDecode(ReadOnlySpan<byte> input, out VoteBatchMessage message, out CodecFailure failure)
    {
        message = default;
        var r = new SpanReader(input);
        if (!r.TryReadFormatHeader() || !r.TryReadVarUInt64(out ulong shard) || !r.TryReadVarUInt64(out ulong sequence)
            || !r.TryReadVarUInt64(out ulong leafCount) || !r.TryReadHash(out var root) || !r.TryReadVarUInt64(out ulong signer)
            || !r.TryReadBytes(Ed25519PublicKey.SignatureSize, out var signature))
        {
            failure = r.Failure;
            return false;
        }
        if (shard > ushort.MaxValue || signer > ushort.MaxValue || leafCount == 0 || leafCount > EntriesMax)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        if (!r.TryReadCount(EntriesMax, MinEntryBytes, out int count))
        {
            failure = r.Failure;
            return false;
        }
        int entriesStart = r.Consumed;
        for (int i = 0; i < count; i++)
        {
            int at = r.Consumed;
            if (!r.TryReadHash(out _) || !r.TryReadByte(out byte decision) || !r.TryReadVarUInt64(out ulong leafIndex)
                || !r.TryReadCount(LocalPreparedProof.PathMax, Hash256.Size, out int pathLength)
                || !r.TryReadBytes(pathLength * Hash256.Size, out _))
            {
                failure = r.Failure;
                return false;
            }
            if (!DecisionExtensions.IsDefined(decision) || leafIndex >= leafCount)
            {
                failure = new CodecFailure(CodecError.InvalidValue, at);
                return false;
            }
        }
        if (!r.TryExpectEnd())
        {
            failure = r.Failure;
            return false;
        }
        message = new VoteBatchMessage
        {
            Shard = (uint)shard,
            Sequence = sequence,
            LeafCount = leafCount,
            Root = root,
            Signer = (ushort)signer,
            Signature = signature,
            EntryCount = count,
            Entries = input[entriesStart..],
        };
        failure = default;
        return true;
    }

    public EntryEnumerator EnumerateEntries() => new(Entries);

    /// <summary>Walks entries that <see cref="TryDecode"/> has already checked.</summary>
    public ref struct EntryEnumerator(ReadOnlySpan<byte> entries)
    {
        private SpanReader _reader = new(entries);
        public Hash256 TransactionId { get; private set; }
        public Decision Decision { get; private set; }
        public ulong LeafIndex { get; private set; }
        public ReadOnlySpan<byte> Path { get; private set; }

        public bool MoveNext()
        {
            if (_reader.End) return false;
            _reader.TryReadHash(out var txId);
            _reader.TryReadByte(out byte decision);
            _reader.TryReadVarUInt64(out ulong leafIndex);
            _reader.TryReadVarUInt64(out ulong pathLength);
            _reader.TryReadBytes((int)pathLength * Hash256.Size, out var path);
            TransactionId = txId;
            Decision = (Decision)decision;
            LeafIndex = leafIndex;
            Path = path;
            return true;
        }
    }

    /// <summary>Writes the header; then call <see cref="WriteEntry"/> <paramref name="entryCount"/> times.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, uint shard, ulong sequence, ulong leafCount, in Hash256 root,
        ushort signer, ReadOnlySpan<byte> signature, int entryCount)
    {
        if (signature.Length != Ed25519PublicKey.SignatureSize) throw new ArgumentException("a signature is 64 bytes", nameof(signature));
        int length = 2 + 3 * 10 + Hash256.Size + 3 + Ed25519PublicKey.SignatureSize + 5;
        var w = new SpanWriter(output.GetSpan(length));
        w.WriteFormatHeader();
        w.WriteVarUInt64(shard);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64(leafCount);
        w.WriteHash(root);
        w.WriteVarUInt64(signer);
        w.WriteBytes(signature);
        w.WriteVarUInt64((ulong)entryCount);
        output.Advance(w.Written);
    }

    public static void WriteEntry(IBufferWriter<byte> output, in Hash256 txId, Decision decision, ulong leafIndex, ReadOnlySpan<Hash256> path)
    {
        int length = Hash256.Size + 1 + 10 + 10 + path.Length * Hash256.Size;
        var w = new SpanWriter(output.GetSpan(length));
        w.WriteHash(txId);
        w.WriteByte((byte)decision);
        w.WriteVarUInt64(leafIndex);
        w.WriteVarUInt64((ulong)path.Length);
        foreach (var h in path) w.WriteHash(h);
        output.Advance(w.Written);
    }
}
