using Chainspace.Core;

namespace Chainspace.Storage.Merkle;

/// <summary>
/// A Merkle tree over leaves added in order (the S-BAC layer adds each decision and each received vote
/// of a checkpoint interval as raw bytes), reusable across checkpoints (<see cref="Clear"/>).
/// <para>
/// Shape (RFC 6962 / 9162): levels are built bottom-up, pairing nodes left to right; a lone last node is
/// promoted to the next level unchanged, never paired with itself (duplicating it, as Bitcoin does, lets two
/// different leaf lists share a root). This is the RFC's tree (split at the largest power of two below n),
/// so its audit paths and verification algorithm (RFC 9162 §2.1.3.2) apply to every size.
/// </para>
/// </summary>
public sealed class MerkleTree
{
    /// <summary>The longest path a tree of up to 2^31 leaves has.</summary>
    public const int MaxProofLength = 32;

    private Hash256[] _nodes;           // level 0 (leaf hashes), then level 1, …, up to the root
    private readonly int[] _levelStart = new int[MaxProofLength + 1];
    private int _count;
    private int _levels;                // levels built; 0 when stale

    public MerkleTree(int capacity = 64)
    {
        _nodes = new Hash256[Math.Max(2, capacity * 2)];
    }

    public int Count => _count;

    public void Clear()
    {
        _count = 0;
        _levels = 0;
    }

    /// <summary>Adds a leaf (hashed with the leaf domain); returns its index.</summary>
    public int AddLeaf(ReadOnlySpan<byte> data) => AddLeafHash(MerkleHash.Leaf(data));

    /// <summary>Adds a leaf whose leaf hash (<see cref="MerkleHash.Leaf"/>) the caller already has.</summary>
    public int AddLeafHash(in Hash256 leafHash)
    {
        if (_count * 2 + 2 > _nodes.Length) Array.Resize(ref _nodes, _nodes.Length * 2);
        _nodes[_count] = leafHash;
        _levels = 0;
        return _count++;
    }

    public Hash256 Root
    {
        get
        {
            if (_count == 0) return MerkleHash.Empty;
            Build();
            return _nodes[_levelStart[_levels - 1]];
        }
    }

    /// <summary>Writes the audit path of leaf <paramref name="index"/> (siblings from the leaf up); returns its length.</summary>
    public int GetProof(int index, Span<Hash256> path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
        Build();
        int written = 0;
        for (int level = 0; level < _levels - 1; level++)
        {
            int width = LevelWidth(level);
            int start = _levelStart[level];
            if ((index & 1) == 1) path[written++] = _nodes[start + index - 1];
            else if (index + 1 < width) path[written++] = _nodes[start + index + 1];
            // else: the lone last node, promoted; no sibling at this level
            index >>= 1;
        }
        return written;
    }

    public MerkleProof GetProof(int index)
    {
        Span<Hash256> path = stackalloc Hash256[MaxProofLength];
        int n = GetProof(index, path);
        return new MerkleProof(_count, index, path[..n].ToArray());
    }

    /// <summary>RFC 9162 §2.1.3.2: does <paramref name="path"/> lead from this leaf to <paramref name="root"/> in a tree of <paramref name="treeSize"/> leaves?</summary>
    public static bool Verify(in Hash256 root, long treeSize, long leafIndex, ReadOnlySpan<byte> leafData, ReadOnlySpan<Hash256> path) =>
        VerifyLeafHash(root, treeSize, leafIndex, MerkleHash.Leaf(leafData), path);

    public static bool VerifyLeafHash(in Hash256 root, long treeSize, long leafIndex, in Hash256 leafHash, ReadOnlySpan<Hash256> path)
    {
        if (leafIndex < 0 || leafIndex >= treeSize || path.Length > MaxProofLength) return false;
        long fn = leafIndex;
        long sn = treeSize - 1;
        var r = leafHash;
        foreach (ref readonly var sibling in path)
        {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(sibling, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = MerkleHash.Node(r, sibling);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }

    private int LevelWidth(int level) => (level + 1 < _levels ? _levelStart[level + 1] : _levelStart[level] + 1) - _levelStart[level];

    private void Build()
    {
        if (_levels > 0) return;
        Invariant.Check(_count > 0);
        if (_nodes.Length < 2 * _count) Array.Resize(ref _nodes, 2 * _count);
        int start = 0, width = _count, level = 0;
        _levelStart[0] = 0;
        while (width > 1)
        {
            int next = start + width;
            for (int i = 0; i + 1 < width; i += 2) _nodes[next + i / 2] = MerkleHash.Node(_nodes[start + i], _nodes[start + i + 1]);
            if ((width & 1) == 1) _nodes[next + width / 2] = _nodes[start + width - 1];   // promote the lone node
            start = next;
            width = (width + 1) / 2;
            _levelStart[++level] = start;
        }
        _levels = level + 1;
    }
}
