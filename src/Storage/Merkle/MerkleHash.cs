using Chainspace.Core;

namespace Chainspace.Storage.Merkle;

/// <summary>
/// Domain-separated Merkle hashing (RFC 6962 style, with our preimage prefix): a leaf is
/// H(0x00 ‖ version ‖ algorithm ‖ data) and an inner node H(0x01 ‖ version ‖ algorithm ‖ left ‖ right),
/// so no leaf can pass for a node. The empty tree's root is H(0x01 ‖ version ‖ algorithm), a preimage
/// no node has. Allocation-free (one-shot SHA-256 over a stack buffer; large leaves use a pooled one).
/// </summary>
public static class MerkleHash
{

    public static readonly Hash256 Empty = ComputeEmpty();

    public static Hash256 Leaf(ReadOnlySpan<byte> data) => Hashing.Domain(HashDomain.MerkleLeaf, data);

    public static Hash256 Node(in Hash256 left, in Hash256 right)
    {
        Span<byte> preimage = stackalloc byte[Hashing.PrefixSize + 2 * Hash256.Size];
        Hashing.WritePrefix(preimage, HashDomain.MerkleNode);
        left.WriteTo(preimage[Hashing.PrefixSize..]);
        right.WriteTo(preimage[(Hashing.PrefixSize + Hash256.Size)..]);
        return Hashing.Sha256(preimage);
    }

    private static Hash256 ComputeEmpty()
    {
        Span<byte> preimage = stackalloc byte[Hashing.PrefixSize];
        Hashing.WritePrefix(preimage, HashDomain.MerkleNode);
        return Hashing.Sha256(preimage);
    }
}
