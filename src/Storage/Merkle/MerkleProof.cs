using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Storage.Merkle;

/// <summary>
/// An inclusion proof that verifies without the tree:
/// <code>u8 version (1) ‖ u8 hash algorithm (1) ‖ varint treeSize ‖ varint leafIndex ‖ varint k ‖ Hash256 × k</code>
/// </summary>
public sealed record MerkleProof(long TreeSize, long LeafIndex, Hash256[] Path)
{
    public bool Verify(in Hash256 root, ReadOnlySpan<byte> leafData) => MerkleTree.Verify(root, TreeSize, LeafIndex, leafData, Path);

    public int GetEncodedLength() =>
        2 + SpanWriter.VarintLength((ulong)TreeSize) + SpanWriter.VarintLength((ulong)LeafIndex) + SpanWriter.VarintLength((ulong)Path.Length) + Path.Length * Hash256.Size;

    public int Encode(Span<byte> destination)
    {
        var writer = new SpanWriter(destination);
        writer.WriteFormatHeader();
        writer.WriteVarUInt64((ulong)TreeSize);
        writer.WriteVarUInt64((ulong)LeafIndex);
        writer.WriteVarUInt64((ulong)Path.Length);
        foreach (var node in Path) writer.WriteHash(node);
        return writer.Written;
    }

    public static bool TryDecode(ReadOnlySpan<byte> input, out MerkleProof? proof, out CodecFailure failure)
    {
        proof = null;
        var reader = new SpanReader(input);
        if (!reader.TryReadFormatHeader() || !reader.TryReadVarUInt64(out ulong size) || !reader.TryReadVarUInt64(out ulong index)
            || !reader.TryReadCount(MerkleTree.MaxProofLength, Hash256.Size, out int count))
        {
            failure = reader.Failure;
            return false;
        }
        if (size == 0 || size > int.MaxValue || index >= size)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        var path = new Hash256[count];
        for (int i = 0; i < count; i++) reader.TryReadHash(out path[i]);
        if (!reader.TryExpectEnd())
        {
            failure = reader.Failure;
            return false;
        }
        proof = new MerkleProof((long)size, (long)index, path);
        failure = default;
        return true;
    }
}
