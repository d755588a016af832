using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Crypto;

namespace Chainspace.Sbac;

/// <summary>
/// LOCALPREPARED(decision, T) for one shard (paper §V-A): f+1 replicas of the shard signed the same
/// vote statement for one executed batch, and T's leaf (T id, decision) is in that batch's vote tree.
/// Anyone holding the cluster configuration can check it.
///
/// LocalPreparedProof := varint shard ‖ varint batchSequence ‖ varint leafCount ‖ Hash256 root ‖
///                       varint leafIndex ‖ u8 decision ‖ varint pathLength ‖ Hash256 × pathLength ‖
///                       varint signatureCount ‖ (varint replica ‖ 64 B signature) × signatureCount
/// The T id is not repeated: the command carrying the proof names T, and the leaf binds it.
/// </summary>
public readonly ref struct LocalPreparedProof
{
    public const int PathMax = 64;
    public const int SignaturesMax = 256;
    public const int MinEncodedBytes = 1 + 1 + 1 + Hash256.Size + 1 + 1 + 1 + 1;

    public uint Shard { get; init; }
    public ulong BatchSequence { get; init; }
    public ulong LeafCount { get; init; }
    public Hash256 Root { get; init; }
    public ulong LeafIndex { get; init; }
    public Decision Decision { get; init; }
    /// <summary>The audit path: pathLength hashes, 32 bytes each.</summary>
    public ReadOnlySpan<byte> Path { get; init; }
    /// <summary>signatureCount entries of (varint replica ‖ 64 B signature).</summary>
    public ReadOnlySpan<byte> Signatures { get; init; }
    public int SignatureCount { get; init; }

    /// <summary>Reads one proof from the start of <paramref name="input"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> input, out LocalPreparedProof proof, out int length, out CodecFailure failure)
    {
        proof = default;
        length = 0;
        var r = new SpanReader(input);
        if (!r.TryReadVarUInt64(out ulong shard) || !r.TryReadVarUInt64(out ulong sequence)
            || !r.TryReadVarUInt64(out ulong leafCount) || !r.TryReadHash(out var root)
            || !r.TryReadVarUInt64(out ulong leafIndex) || !r.TryReadByte(out byte decision))
        {
            failure = r.Failure;
            return false;
        }
        if (shard > ushort.MaxValue || leafCount == 0 || leafIndex >= leafCount || !DecisionExtensions.IsDefined(decision))
        {
            failure = new CodecFailure(CodecError.InvalidValue, r.Consumed - 1);
            return false;
        }
        if (!r.TryReadCount(PathMax, Hash256.Size, out int pathLength) || !r.TryReadBytes(pathLength * Hash256.Size, out var path))
        {
            failure = r.Failure;
            return false;
        }
        int signaturesStart = r.Consumed;
        if (!r.TryReadCount(SignaturesMax, 1 + Ed25519PublicKey.SignatureSize, out int signatureCount))
        {
            failure = r.Failure;
            return false;
        }
        int entriesStart = r.Consumed;
        for (int i = 0; i < signatureCount; i++)
        {
            if (!r.TryReadVarUInt64(out ulong replica) || !r.TryReadBytes(Ed25519PublicKey.SignatureSize, out _))
            {
                failure = r.Failure;
                return false;
            }
            if (replica > ushort.MaxValue)
            {
                failure = new CodecFailure(CodecError.InvalidValue, r.Consumed - Ed25519PublicKey.SignatureSize - 1);
                return false;
            }
        }
        _ = signaturesStart;
        proof = new LocalPreparedProof
        {
            Shard = (uint)shard,
            BatchSequence = sequence,
            LeafCount = leafCount,
            Root = root,
            LeafIndex = leafIndex,
            Decision = (Decision)decision,
            Path = path,
            Signatures = input[entriesStart..r.Consumed],
            SignatureCount = signatureCount,
        };
        length = r.Consumed;
        failure = default;
        return true;
    }

    public static bool TrySkip(ReadOnlySpan<byte> input, out int length, out CodecFailure failure) =>
        TryRead(input, out _, out length, out failure);

    /// <summary>Enumerates (replica, signature) pairs of a proof that <see cref="TryRead"/> accepted.</summary>
    public SignatureEnumerator EnumerateSignatures() => new(Signatures);

    public ref struct SignatureEnumerator(ReadOnlySpan<byte> entries)
    {
        private SpanReader _reader = new(entries);
        public ushort Replica { get; private set; }
        public ReadOnlySpan<byte> Signature { get; private set; }

        public bool MoveNext()
        {
            if (_reader.End) return false;
            _reader.TryReadVarUInt64(out ulong replica);
            _reader.TryReadBytes(Ed25519PublicKey.SignatureSize, out var signature);
            Replica = (ushort)replica;
            Signature = signature;
            return true;
        }
    }

    /// <summary>Encodes a proof. <paramref name="path"/> holds the audit path hashes in order.</summary>
    public static void Write(IBufferWriter<byte> output, uint shard, ulong batchSequence, ulong leafCount, in Hash256 root,
        ulong leafIndex, Decision decision, ReadOnlySpan<Hash256> path, ReadOnlySpan<(ushort Replica, byte[] Signature)> signatures)
    {
        int length = SpanWriter.VarintLength(shard) + SpanWriter.VarintLength(batchSequence) + SpanWriter.VarintLength(leafCount)
                     + Hash256.Size + SpanWriter.VarintLength(leafIndex) + 1
                     + SpanWriter.VarintLength((ulong)path.Length) + path.Length * Hash256.Size
                     + SpanWriter.VarintLength((ulong)signatures.Length);
        foreach (var (replica, _) in signatures) length += SpanWriter.VarintLength(replica) + Ed25519PublicKey.SignatureSize;
        var w = new SpanWriter(output.GetSpan(length)[..length]);
        w.WriteVarUInt64(shard);
        w.WriteVarUInt64(batchSequence);
        w.WriteVarUInt64(leafCount);
        w.WriteHash(root);
        w.WriteVarUInt64(leafIndex);
        w.WriteByte((byte)decision);
        w.WriteVarUInt64((ulong)path.Length);
        foreach (var h in path) w.WriteHash(h);
        w.WriteVarUInt64((ulong)signatures.Length);
        foreach (var (replica, signature) in signatures)
        {
            if (signature.Length != Ed25519PublicKey.SignatureSize) throw new ArgumentException("signatures are 64 bytes", nameof(signatures));
            w.WriteVarUInt64(replica);
            w.WriteBytes(signature);
        }
        output.Advance(length);
    }
}
