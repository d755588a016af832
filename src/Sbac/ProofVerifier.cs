using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Storage.Merkle;

namespace Chainspace.Sbac;

/// <summary>
/// Verifies LOCALPREPARED proofs and cross-shard votes from the cluster configuration alone: a vote
/// statement (cluster, epoch, shard, sequence, leaf count, root) signed by f+1 distinct replicas of the
/// shard, and the leaf (T id ‖ decision) under that root by its audit path (RFC 9162 Merkle tree).
///
/// Signature checks dominate the cost (an Ed25519 verify is ~50 µs), and every transaction of a batch
/// shares its batch's statement, so verified (statement, signer) pairs are remembered: a proof for the
/// next transaction of the same batch costs a few hashes. The cache is bounded and cleared when full.
/// </summary>
public sealed class ProofVerifier : IProofVerifier
{
    private readonly ClusterConfig _config;
    private readonly IReplicaSigner[] _shards;   // verify-only signer per shard
    private readonly HashSet<(Hash256 Statement, ushort Signer)> _verified = [];
    private readonly int _cacheMax;
    private readonly byte[] _statement = new byte[Hash256.Size];
    private readonly Hash256[] _path = new Hash256[MerkleTree.MaxProofLength];
    private readonly ushort[] _signers = new ushort[256];

    /// <param name="shardSigners">One verifier per shard, indexed by shard (Ed25519 from the configuration
    /// on nodes; the simulator's keyed hashes there).</param>
    public ProofVerifier(ClusterConfig config, IReadOnlyList<IReplicaSigner> shardSigners, int cacheMax = 1 << 16)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        if (shardSigners.Count != config.Shards.Count) throw new ArgumentException("one signer per shard", nameof(shardSigners));
        _shards = shardSigners.ToArray();
        _cacheMax = cacheMax;
    }

    /// <summary>Verifiers for every shard from the configuration's Ed25519 keys.</summary>
    public static ProofVerifier FromConfiguration(ClusterConfig config) =>
        new(config, config.Shards.Select(s => (IReplicaSigner)new Ed25519ReplicaSigner(s, own: null)).ToArray());

    public Hash256 StatementDigest(uint shard, ulong sequence, ulong leafCount, in Hash256 root) =>
        VoteStatement.Digest(_config.ClusterId, _config.Epoch, shard, sequence, leafCount, root);

    /// <summary>One replica's signature over a statement (cached once verified).</summary>
    public bool VerifyStatement(uint shard, ushort signer, in Hash256 statement, ReadOnlySpan<byte> signature)
    {
        if (shard >= _shards.Length || signer >= _config.Shards[(int)shard].N) return false;
        if (_verified.Contains((statement, signer))) return true;
        statement.WriteTo(_statement);
        if (!_shards[shard].Verify(signer, _statement, signature)) return false;
        if (_verified.Count >= _cacheMax) _verified.Clear();
        _verified.Add((statement, signer));
        return true;
    }

    /// <summary>
    /// Records that <paramref name="signer"/> of <paramref name="shard"/> signed <paramref name="statement"/>, without a
    /// check: for a replica's own vote statements, which it has just signed itself. Its own copy of its vote batch
    /// then costs it no verification, and neither does its own signature inside the proofs it later executes.
    /// </summary>
    public void RememberOwn(uint shard, ushort signer, in Hash256 statement)
    {
        if (shard >= _shards.Length || signer >= _config.Shards[(int)shard].N) return;
        if (_verified.Count >= _cacheMax) _verified.Clear();
        _verified.Add((statement, signer));
    }

    /// <summary>The leaf (T id ‖ decision) is at <paramref name="leafIndex"/> of the tree with this root.</summary>
    public static bool VerifyLeaf(in Hash256 root, ulong leafCount, ulong leafIndex, in Hash256 txId, Decision decision, ReadOnlySpan<byte> path, Span<Hash256> scratch)
    {
        int length = path.Length / Hash256.Size;
        if (length > scratch.Length || path.Length % Hash256.Size != 0 || leafCount > long.MaxValue) return false;
        for (int i = 0; i < length; i++) scratch[i] = new Hash256(path.Slice(i * Hash256.Size, Hash256.Size));
        Span<byte> leaf = stackalloc byte[VoteStatement.LeafSize];
        VoteStatement.WriteLeaf(leaf, txId, decision);
        return MerkleTree.Verify(root, (long)leafCount, (long)leafIndex, leaf, scratch[..length]);
    }

    public bool Verify(in LocalPreparedProof proof, in Hash256 txId)
    {
        if (proof.Shard >= _config.Shards.Count) return false;
        if (!VerifyLeaf(proof.Root, proof.LeafCount, proof.LeafIndex, txId, proof.Decision, proof.Path, _path)) return false;
        var statement = StatementDigest(proof.Shard, proof.BatchSequence, proof.LeafCount, proof.Root);
        int needed = _config.Shards[(int)proof.Shard].WeakQuorum;
        int distinct = 0;
        var signatures = proof.EnumerateSignatures();
        while (signatures.MoveNext())
        {
            ushort signer = signatures.Replica;
            bool repeated = false;
            for (int i = 0; i < distinct && !repeated; i++) repeated = _signers[i] == signer;
            if (repeated || distinct >= _signers.Length) continue;
            if (!VerifyStatement(proof.Shard, signer, statement, signatures.Signature)) continue;
            _signers[distinct++] = signer;
            if (distinct >= needed) return true;
        }
        return false;
    }
}
