using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Sbac;
using Chainspace.Storage.Merkle;

namespace Chainspace.Client;

/// <summary>
/// Gathers the signed votes replicas send a client that asked for receipts, for the transactions it tracks, into
/// LOCALPREPARED proofs: each vote batch's signature is checked once (against the cluster file's keys) and each
/// vote's Merkle path before it is kept, so a Byzantine replica's garbage never spoils a receipt. Not thread-safe:
/// the client calls it under its lock.
/// </summary>
internal sealed class ReceiptCollector(ClusterConfig config, int transactionsMax = 4096)
{
    private readonly ProofVerifier _verifier = ProofVerifier.FromConfiguration(config);
    private readonly VoteCollector _votes = new(config, transactionsMax);
    private readonly HashSet<Hash256> _tracked = new();
    private readonly Hash256[] _path = new Hash256[MerkleTree.MaxProofLength];

    public int TransactionsMax => transactionsMax;

    public bool Track(in Hash256 txId) => _tracked.Count < transactionsMax && _tracked.Add(txId);

    public void Forget(in Hash256 txId)
    {
        _tracked.Remove(txId);
        _votes.Forget(txId);
    }

    public void OnVotes(ReadOnlySpan<byte> message, NodeId from)
    {
        if (!VoteBatchMessage.TryDecode(message, out var m, out _) || m.Shard != from.Shard || m.Signer != from.Replica) return;
        bool signed = false;
        var entries = m.EnumerateEntries();
        while (entries.MoveNext())
        {
            var txId = entries.TransactionId;
            if (!_tracked.Contains(txId) || _votes.TryGetLocalPrepared(txId, m.Shard, out _)) continue;
            if (!signed)
            {
                if (!_verifier.VerifyStatement(m.Shard, m.Signer, _verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root), m.Signature)) return;
                signed = true;
            }
            if (!ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, entries.LeafIndex, txId, entries.Decision, entries.Path, _path)) continue;
            int length = entries.Path.Length / Hash256.Size;
            _votes.Add(txId, m.Shard, entries.Decision, m.Sequence, m.LeafCount, m.Root, entries.LeafIndex, _path.AsSpan(0, length), m.Signer, m.Signature);
        }
    }

    /// <summary>The proofs for <paramref name="tx"/>'s <paramref name="decision"/>, once the votes establish it.</summary>
    public bool TryBuild(PreparedTransaction tx, Decision decision, out Receipt? receipt)
    {
        receipt = null;
        if (_votes.Outcome(tx.Id, tx.ConcernedShards, ownShard: uint.MaxValue, ownVote: null) != decision) return false;
        var proofs = new ArrayBufferWriter<byte>(1024);
        _votes.WriteProofs(proofs, tx.Id, tx.ConcernedShards, decision);
        receipt = new Receipt(tx.EncodedTransaction.ToArray(), decision, proofs.WrittenSpan.ToArray());
        return true;
    }
}
