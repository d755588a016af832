using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Storage.Merkle;

namespace Chainspace.Sbac.Tests;

/// <summary>End to end over real Ed25519: sign a batch's votes, ship them, collect f+1, verify the proof.</summary>
public class ProofVerifierTests
{
    private static readonly (ClusterConfig Config, IReadOnlyDictionary<NodeId, Core.Crypto.Ed25519KeyPair> Keys) Local = ClusterConfig.CreateLocal(2, 4, seed: "proofs");
    private static readonly VoteEntry[] Votes = Enumerable.Range(0, 5)
        .Select(i => new VoteEntry(Hashing.Sha256(BitConverter.GetBytes(i)), i % 2 == 0 ? Decision.Commit : Decision.Abort)).ToArray();

    /// <summary>Shard 1's replicas sign the same batch; returns each one's message carrying entries 0 and 3.</summary>
    private static byte[][] SignedMessages(ulong sequence = 42, ClusterConfig? config = null)
    {
        var messages = new byte[4][];
        for (ushort r = 0; r < 4; r++)
        {
            var id = new NodeId(1, r);
            var signer = new Ed25519ReplicaSigner(Local.Config.Shard(1), Local.Keys[id]);
            var voteSigner = new VoteSigner(config ?? Local.Config, id, signer);
            Assert.True(voteSigner.SignBatch(sequence, Votes));
            var buffer = new ArrayBufferWriter<byte>();
            voteSigner.WriteMessage(buffer, Votes, [0, 3]);
            messages[r] = buffer.WrittenSpan.ToArray();
        }
        return messages;
    }

    /// <summary>What a receiving replica does: check the statement signature and each leaf, then collect.</summary>
    private static int Receive(ProofVerifier verifier, VoteCollector collector, byte[] bytes)
    {
        Assert.True(VoteBatchMessage.TryDecode(bytes, out var m, out var failure), failure.Describe());
        var statement = verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root);
        if (!verifier.VerifyStatement(m.Shard, m.Signer, statement, m.Signature)) return 0;
        int added = 0;
        Span<Hash256> scratch = stackalloc Hash256[MerkleTree.MaxProofLength];
        var e = m.EnumerateEntries();
        while (e.MoveNext())
        {
            if (!ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, e.LeafIndex, e.TransactionId, e.Decision, e.Path, scratch)) continue;
            var path = new Hash256[e.Path.Length / Hash256.Size];
            for (int i = 0; i < path.Length; i++) path[i] = new Hash256(e.Path.Slice(i * Hash256.Size, Hash256.Size));
            collector.Add(e.TransactionId, m.Shard, e.Decision, m.Sequence, m.LeafCount, m.Root, e.LeafIndex, path, m.Signer, m.Signature);
            added++;
        }
        return added;
    }

    private static byte[] ProofFor(VoteCollector collector, Hash256 tx, Decision decision)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(1, collector.WriteProofs(buffer, tx, [1], decision));
        var reader = new SpanReader(buffer.WrittenSpan);
        reader.TryReadVarUInt64(out _);
        return buffer.WrittenSpan[reader.Consumed..].ToArray();
    }

    private static bool Verify(ProofVerifier verifier, byte[] proofBytes, Hash256 tx)
    {
        Assert.True(LocalPreparedProof.TryRead(proofBytes, out var proof, out int length, out _));
        Assert.Equal(proofBytes.Length, length);
        return verifier.Verify(proof, tx);
    }

    [Fact]
    public void Proof_FromFPlusOneSignedVotes_VerifiesForEveryEntrySent()
    {
        var messages = SignedMessages();
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        var collector = new VoteCollector(Local.Config);
        Assert.Equal(2, Receive(verifier, collector, messages[0]));
        Assert.False(collector.TryGetLocalPrepared(Votes[0].TransactionId, 1, out _));
        Assert.Equal(2, Receive(verifier, collector, messages[2]));
        foreach (int i in new[] { 0, 3 })
        {
            var v = Votes[i];
            Assert.True(collector.TryGetLocalPrepared(v.TransactionId, 1, out var d));
            Assert.Equal(v.Decision, d);
            Assert.True(Verify(ProofVerifier.FromConfiguration(Local.Config), ProofFor(collector, v.TransactionId, v.Decision), v.TransactionId));
        }
    }

    [Fact]
    public void Proof_ForAnotherTransactionOrDecision_Fails()
    {
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        var collector = new VoteCollector(Local.Config);
        var messages = SignedMessages();
        Receive(verifier, collector, messages[1]);
        Receive(verifier, collector, messages[3]);
        byte[] proof = ProofFor(collector, Votes[0].TransactionId, Decision.Commit);
        Assert.True(Verify(verifier, proof, Votes[0].TransactionId));
        Assert.False(Verify(verifier, proof, Votes[2].TransactionId));   // same batch, other leaf

        // Flip the decision byte: the leaf no longer matches the root.
        Assert.True(LocalPreparedProof.TryRead(proof, out var p, out _, out _));
        int decisionOffset = Array.LastIndexOf(proof, (byte)Decision.Commit, proof.Length - 1 - p.Signatures.Length - 1 - p.Path.Length - 1);
        byte[] flipped = (byte[])proof.Clone();
        flipped[decisionOffset] = (byte)Decision.Abort;
        Assert.True(LocalPreparedProof.TryRead(flipped, out var fp, out _, out _));
        Assert.Equal(Decision.Abort, fp.Decision);
        Assert.False(verifier.Verify(fp, Votes[0].TransactionId));
    }

    [Fact]
    public void Proof_WithTamperedPathOrSignature_Fails()
    {
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        var collector = new VoteCollector(Local.Config);
        var messages = SignedMessages();
        Receive(verifier, collector, messages[0]);
        Receive(verifier, collector, messages[1]);
        byte[] proof = ProofFor(collector, Votes[3].TransactionId, Votes[3].Decision);
        Assert.True(LocalPreparedProof.TryRead(proof, out var p, out _, out _));
        int pathStart = proof.Length - p.Signatures.Length - 1 - p.Path.Length;
        for (int at = pathStart; at < pathStart + p.Path.Length; at += 7)
        {
            byte[] bad = (byte[])proof.Clone();
            bad[at] ^= 0x01;
            Assert.False(Verify(ProofVerifier.FromConfiguration(Local.Config), bad, Votes[3].TransactionId));
        }
        byte[] badSignature = (byte[])proof.Clone();
        badSignature[^1] ^= 0x01;   // the last signature
        Assert.False(Verify(ProofVerifier.FromConfiguration(Local.Config), badSignature, Votes[3].TransactionId));
    }

    [Fact]
    public void Proof_WithOneSignerRepeated_DoesNotReachFPlusOne()
    {
        var m = SignedMessages()[0];
        Assert.True(VoteBatchMessage.TryDecode(m, out var message, out _));
        var tree = new MerkleTree();
        foreach (var v in Votes)
        {
            var leaf = new byte[VoteStatement.LeafSize];
            VoteStatement.WriteLeaf(leaf, v.TransactionId, v.Decision);
            tree.AddLeaf(leaf);
        }
        var path = new Hash256[MerkleTree.MaxProofLength];
        int length = tree.GetProof(0, path);
        var sig = message.Signature.ToArray();
        var buffer = new ArrayBufferWriter<byte>();
        LocalPreparedProof.Write(buffer, 1, 42, (ulong)Votes.Length, tree.Root, 0, Votes[0].Decision, path.AsSpan(0, length), [(0, sig), (0, sig)]);
        Assert.False(Verify(ProofVerifier.FromConfiguration(Local.Config), buffer.WrittenSpan.ToArray(), Votes[0].TransactionId));
    }

    [Fact]
    public void Votes_FromAnotherEpochOrWrongShardKeys_AreRejected()
    {
        // Votes signed under epoch 2 do not verify in an epoch-1 cluster (no replay across configurations).
        var otherEpoch = new ClusterConfig(Local.Config.ClusterId, 2, Local.Config.Shards);
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        Assert.Equal(0, Receive(verifier, new VoteCollector(Local.Config), SignedMessages(config: otherEpoch)[0]));

        // Shard 0's replica 0 cannot sign as shard 1's replica 0.
        var impostor = new VoteSigner(Local.Config, new NodeId(1, 0), new Ed25519ReplicaSigner(Local.Config.Shard(0), Local.Keys[new NodeId(0, 0)]));
        impostor.SignBatch(42, Votes);
        var buffer = new ArrayBufferWriter<byte>();
        impostor.WriteMessage(buffer, Votes, [0]);
        Assert.Equal(0, Receive(verifier, new VoteCollector(Local.Config), buffer.WrittenSpan.ToArray()));
    }

    [Fact]
    public void VoteBatchMessage_TruncatedOrGarbled_IsRejected()
    {
        var m = SignedMessages()[0];
        for (int cut = 0; cut < m.Length; cut++) Assert.False(VoteBatchMessage.TryDecode(m.AsSpan(0, cut), out _, out _));
        Assert.False(VoteBatchMessage.TryDecode([.. m, 0], out _, out var trailing));
        Assert.Equal(CodecError.TrailingBytes, trailing.Error);
    }
}
