using Chainspace.Core;
using Chainspace.Storage.Merkle;

namespace Chainspace.Storage.Tests;

public sealed class MerkleTests
{
    private static byte[] Leaf(int i) => [.. BitConverter.GetBytes(i), (byte)(i % 2)];   // "tx id + commit/abort" stand-in

    /// <summary>RFC 6962 §2.1, written recursively as the RFC states it: the reference the tree must match.</summary>
    private static Hash256 ReferenceRoot(IReadOnlyList<byte[]> leaves, int from, int to)
    {
        int n = to - from;
        if (n == 1) return MerkleHash.Leaf(leaves[from]);
        int k = 1;
        while (k * 2 < n) k *= 2;
        return MerkleHash.Node(ReferenceRoot(leaves, from, from + k), ReferenceRoot(leaves, from + k, to));
    }

    [Fact]
    public void Proofs_EveryLeafOfEverySize1To257_Verify()
    {
        var tree = new MerkleTree();
        var leaves = new List<byte[]>();
        Span<Hash256> path = stackalloc Hash256[MerkleTree.MaxProofLength];
        for (int size = 1; size <= 257; size++)
        {
            tree.Clear();
            leaves.Clear();
            for (int i = 0; i < size; i++)
            {
                leaves.Add(Leaf(i));
                Assert.Equal(i, tree.AddLeaf(Leaf(i)));
            }
            var root = tree.Root;
            Assert.Equal(ReferenceRoot(leaves, 0, size), root);
            for (int i = 0; i < size; i++)
            {
                int n = tree.GetProof(i, path);
                Assert.True(MerkleTree.Verify(root, size, i, leaves[i], path[..n]), $"size {size} leaf {i}");
            }
        }
    }

    [Fact]
    public void Proofs_ChangedLeafReorderedPathOrWrongPosition_Fail()
    {
        var tree = new MerkleTree();
        var leaves = new List<byte[]>();
        var random = new Random(11);
        Span<Hash256> path = stackalloc Hash256[MerkleTree.MaxProofLength];
        Span<Hash256> bad = stackalloc Hash256[MerkleTree.MaxProofLength];
        for (int size = 1; size <= 257; size++)
        {
            tree.Clear();
            leaves.Clear();
            for (int i = 0; i < size; i++)
            {
                leaves.Add(Leaf(i));
                tree.AddLeaf(Leaf(i));
            }
            var root = tree.Root;
            for (int i = 0; i < size; i++)
            {
                int n = tree.GetProof(i, path);
                var changed = (byte[])leaves[i].Clone();
                changed[random.Next(changed.Length)] ^= (byte)(1 << random.Next(8));
                Assert.False(MerkleTree.Verify(root, size, i, changed, path[..n]));
                if (n >= 2)
                {
                    // Every swap of two neighbouring path entries, and the whole path reversed.
                    for (int a = 0; a + 1 < n; a++)
                    {
                        path[..n].CopyTo(bad);
                        (bad[a], bad[a + 1]) = (bad[a + 1], bad[a]);
                        Assert.False(MerkleTree.Verify(root, size, i, leaves[i], bad[..n]), $"size {size} leaf {i} swap {a}");
                    }
                    path[..n].CopyTo(bad);
                    bad[..n].Reverse();
                    Assert.False(MerkleTree.Verify(root, size, i, leaves[i], bad[..n]));
                }
                if (n >= 1)
                {
                    Assert.False(MerkleTree.Verify(root, size, i, leaves[i], path[..(n - 1)]));
                    path[..n].CopyTo(bad);
                    bad[n] = root;
                    Assert.False(MerkleTree.Verify(root, size, i, leaves[i], bad[..(n + 1)]));
                }
                if (size > 1) Assert.False(MerkleTree.Verify(root, size, (i + 1) % size, leaves[i], path[..n]));
                Assert.False(MerkleTree.Verify(root, size, size, leaves[i], path[..n]));
            }
        }
    }

    [Fact]
    public void Tree_LeafAndNodeDomains_AreSeparated()
    {
        var a = MerkleHash.Leaf([1]);
        var b = MerkleHash.Leaf([2]);
        var node = MerkleHash.Node(a, b);
        Span<byte> concatenated = stackalloc byte[64];
        a.WriteTo(concatenated);
        b.WriteTo(concatenated[32..]);
        Assert.NotEqual(node, MerkleHash.Leaf(concatenated));
        Assert.NotEqual(MerkleHash.Empty, MerkleHash.Leaf([]));
        Assert.Equal(MerkleHash.Empty, new MerkleTree().Root);
        // A lone node is promoted, never paired with itself: [a, b, c] and [a, b, c, c] differ.
        var three = new MerkleTree();
        var four = new MerkleTree();
        foreach (byte x in new byte[] { 1, 2, 3 }) three.AddLeaf([x]);
        foreach (byte x in new byte[] { 1, 2, 3, 3 }) four.AddLeaf([x]);
        Assert.NotEqual(three.Root, four.Root);
        Assert.Equal(MerkleHash.Node(node, MerkleHash.Leaf([3])), three.Root);
    }

    [Fact]
    public void Proof_EncodeDecode_RoundTripsAndRejectsGarbage()
    {
        var tree = new MerkleTree();
        for (int i = 0; i < 100; i++) tree.AddLeaf(Leaf(i));
        var proof = tree.GetProof(37);
        var bytes = new byte[proof.GetEncodedLength()];
        Assert.Equal(bytes.Length, proof.Encode(bytes));
        Assert.True(MerkleProof.TryDecode(bytes, out var decoded, out _));
        Assert.True(decoded!.Verify(tree.Root, Leaf(37)));
        Assert.False(decoded.Verify(tree.Root, Leaf(38)));
        for (int length = 0; length < bytes.Length; length++) Assert.False(MerkleProof.TryDecode(bytes.AsSpan(0, length), out _, out _));
        var badIndex = (byte[])bytes.Clone();
        badIndex[3] = 100;   // leaf index = tree size
        Assert.False(MerkleProof.TryDecode(badIndex, out _, out _));
    }

    [Fact]
    public void Root_AfterWarmUp_AllocatesNothing()
    {
        var tree = new MerkleTree(capacity: 1024);
        byte[] leaf = new byte[33];
        var proof = new Hash256[MerkleTree.MaxProofLength];
        bool verified = false;
        Assert.Equal(0, Allocations.Fewest(() =>
        {
            tree.Clear();
            for (int i = 0; i < 1000; i++) tree.AddLeaf(leaf);
            var root = tree.Root;
            int n = tree.GetProof(500, proof);
            verified = MerkleTree.Verify(root, 1000, 500, leaf, proof.AsSpan(0, n));
        }));
        Assert.True(verified);
    }
}

public sealed class CheckpointChainTests
{
    private static CheckpointHead[] Chain(int length, Func<int, Hash256> root)
    {
        var heads = new CheckpointHead[length];
        var previous = new CheckpointHead(0, default, Hash256.Zero);
        for (int i = 0; i < length; i++) previous = heads[i] = CheckpointChain.Append(previous, (ulong)(i + 1) * 100, root(i));
        return heads;
    }

    private static Hash256 BlockRoot(int block, int changedLeaf = -1)
    {
        var tree = new MerkleTree();
        for (int i = 0; i < 5 + block % 7; i++) tree.AddLeaf([(byte)block, (byte)i, (byte)(i == changedLeaf ? 1 : 0)]);
        return tree.Root;
    }

    [Fact]
    public void Chain_Untouched_Verifies()
    {
        var heads = Chain(50, i => BlockRoot(i));
        Assert.Equal(-1, CheckpointChain.Verify(Hash256.Zero, heads));
        Assert.Equal(-1, CheckpointChain.Verify(heads[19].Head, heads.AsSpan(20), previousNumber: heads[19].Number));
    }

    [Fact]
    public void Chain_ChangedBlockAnywhere_BreaksVerificationFromThereOn()
    {
        var good = Chain(50, i => BlockRoot(i));
        for (int k = 0; k < good.Length; k++)
        {
            // A changed decision in block k: its root changes, and the chain rebuilt over it diverges from k on.
            var forged = Chain(50, i => i == k ? BlockRoot(i, changedLeaf: 2) : BlockRoot(i));
            for (int i = 0; i < k; i++) Assert.Equal(good[i].Head, forged[i].Head);
            for (int i = k; i < good.Length; i++) Assert.NotEqual(good[i].Head, forged[i].Head);

            // Splicing the changed root into the signed chain fails at k.
            var spliced = (CheckpointHead[])good.Clone();
            spliced[k] = spliced[k] with { Root = forged[k].Root };
            Assert.Equal(k, CheckpointChain.Verify(Hash256.Zero, spliced));
            // So does a changed head, or a number out of order.
            var badHead = (CheckpointHead[])good.Clone();
            badHead[k] = badHead[k] with { Head = Hashing.Sha256([1]) };
            Assert.Equal(k, CheckpointChain.Verify(Hash256.Zero, badHead));
            var badNumber = (CheckpointHead[])good.Clone();
            badNumber[k] = badNumber[k] with { Number = badNumber[k].Number + 1 };
            Assert.Equal(k, CheckpointChain.Verify(Hash256.Zero, badNumber));
        }
    }
}
