using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Storage.Merkle;

namespace Chainspace.Sbac;

/// <summary>
/// Turns one executed batch's votes into signed vote-batch messages: one Merkle tree over the batch's
/// (T id ‖ decision) leaves, one signature over the statement, then per destination shard only the
/// entries that concern it, each with its audit path. One signature and one tree per batch, however
/// many transactions the batch holds.
/// </summary>
public sealed class VoteSigner
{
    private readonly ClusterConfig _config;
    private readonly NodeId _self;
    private readonly IReplicaSigner _signer;
    private readonly MerkleTree _tree;
    private readonly byte[] _leaf = new byte[VoteStatement.LeafSize];
    private readonly byte[] _statement = new byte[Hash256.Size];
    private readonly byte[] _signature = new byte[IReplicaSigner.SignatureSize];
    private readonly Hash256[] _path = new Hash256[MerkleTree.MaxProofLength];

    private readonly ProofVerifier? _ownStatements;

    /// <param name="ownStatements">Where this replica's own signed statements are remembered as verified (the
    /// verifier its initiator and ledger use), or null.</param>
    public VoteSigner(ClusterConfig config, NodeId self, IReplicaSigner signer, int batchVotesMax = 8192, ProofVerifier? ownStatements = null)
    {
        _ownStatements = ownStatements;
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _self = self;
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        _tree = new MerkleTree(batchVotesMax);
    }

    public ulong Sequence { get; private set; }
    public ulong LeafCount => (ulong)_tree.Count;
    public Hash256 Root { get; private set; }
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>Builds the tree over the batch's votes and signs its statement. False for a batch without votes.</summary>
    public bool SignBatch(ulong sequence, ReadOnlySpan<VoteEntry> votes)
    {
        _tree.Clear();
        Sequence = sequence;
        if (votes.IsEmpty) return false;
        foreach (var v in votes)
        {
            VoteStatement.WriteLeaf(_leaf, v.TransactionId, v.Decision);
            _tree.AddLeaf(_leaf);
        }
        Root = _tree.Root;
        var statement = VoteStatement.Digest(_config.ClusterId, _config.Epoch, _self.Shard, sequence, LeafCount, Root);
        statement.WriteTo(_statement);
        _signer.Sign(_statement, _signature);
        _ownStatements?.RememberOwn(_self.Shard, _self.Replica, statement);
        return true;
    }

    /// <summary>
    /// Writes the message for the votes at <paramref name="indexes"/> (positions in the signed batch) to
    /// <paramref name="output"/>: what one destination shard needs.
    /// </summary>
    public void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<VoteEntry> votes, ReadOnlySpan<int> indexes)
    {
        Invariant.Check(votes.Length == _tree.Count);
        VoteBatchMessage.WriteHeader(output, _self.Shard, Sequence, LeafCount, Root, _self.Replica, _signature, indexes.Length);
        foreach (int i in indexes)
        {
            int length = _tree.GetProof(i, _path);
            VoteBatchMessage.WriteEntry(output, votes[i].TransactionId, votes[i].Decision, (ulong)i, _path.AsSpan(0, length));
        }
    }
}
