using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;
using Chainspace.Storage.Merkle;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac.Tests;

/// <summary>
/// The replay and equivocation attacks on S-BAC (Sonnino et al.) with real signed votes and the real
/// <see cref="ProofVerifier"/>: transplanted proofs, proofs of the other decision or another epoch, votes
/// replayed under another sender, and a Byzantine replica that signs both decisions. Each is rejected and
/// leaves the shard's state as it was. (Replayed Prepare and locked-object reuse are in ShardLedgerTests.)
/// </summary>
public class AttackTests
{
    private const int N = 4;
    private static readonly (ClusterConfig Config, IReadOnlyDictionary<NodeId, Core.Crypto.Ed25519KeyPair> Keys) Local = ClusterConfig.CreateLocal(2, N, seed: "attacks");
    private static readonly ChainObject[] Tokens = Dummy.GenesisTokens("attacks", 64).ToArray();
    private static readonly ChainObject[] Shard0 = Tokens.Where(t => Local.Config.ShardMap.ShardOf(t.Id) == 0).ToArray();
    private static readonly ChainObject[] Shard1 = Tokens.Where(t => Local.Config.ShardMap.ShardOf(t.Id) == 1).ToArray();

    private static KeyedHashSigner Key(int shard, int replica) => new([(byte)shard, 0xA7], N, replica);

    private static ProofVerifier Verifier() => new(Local.Config, [Key(0, 0), Key(1, 0)]);

    private sealed class Shard0Ledger
    {
        public readonly ObjectStore Objects = new();
        public readonly ShardLedger Ledger;
        private ulong _sequence;

        public Shard0Ledger()
        {
            Ledger = new ShardLedger(new ShardLedgerOptions
            {
                Shard = 0, Map = Local.Config.ShardMap, Contracts = new ContractRegistry(Dummy.Instance, CsCoin.Instance), TransactionsCapacity = 64,
            }, Objects, Verifier());
            foreach (var t in Shard0) Objects.Create([t.Id]);
        }

        public LedgerReply Run(byte[] operation)
        {
            Ledger.BeginBatch(++_sequence);
            var reply = Ledger.Execute(operation);
            Ledger.EndBatch(_sequence);
            Ledger.CheckInvariants();
            return reply;
        }

        /// <summary>The state (objects, locks, votes, decisions), at a fixed label so batches compare.</summary>
        public Hash256 Digest => Ledger.StateDigest(1);
    }

    /// <summary>Replica <paramref name="replica"/> of shard 1 signs a batch with these votes; the message carries all of them.</summary>
    private static byte[] SignedBatch(int replica, ulong sequence, VoteEntry[] votes, ClusterConfig? config = null)
    {
        var voteSigner = new VoteSigner(config ?? Local.Config, new NodeId(1, (ushort)replica), Key(1, replica));
        Assert.True(voteSigner.SignBatch(sequence, votes));
        var buffer = new ArrayBufferWriter<byte>();
        voteSigner.WriteMessage(buffer, votes, Enumerable.Range(0, votes.Length).ToArray());
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>What a receiving replica does with a vote batch: verify statement and leaves, then collect.</summary>
    private static void Collect(ProofVerifier? verifier, VoteCollector collector, byte[] bytes)
    {
        Assert.True(VoteBatchMessage.TryDecode(bytes, out var m, out _));
        if (verifier is not null && !verifier.VerifyStatement(m.Shard, m.Signer, verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root), m.Signature)) return;
        Span<Hash256> scratch = stackalloc Hash256[MerkleTree.MaxProofLength];
        var e = m.EnumerateEntries();
        while (e.MoveNext())
        {
            if (!ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, e.LeafIndex, e.TransactionId, e.Decision, e.Path, scratch)) continue;
            var path = new Hash256[e.Path.Length / Hash256.Size];
            for (int i = 0; i < path.Length; i++) path[i] = new Hash256(e.Path.Slice(i * Hash256.Size, Hash256.Size));
            collector.Add(e.TransactionId, m.Shard, e.Decision, m.Sequence, m.LeafCount, m.Root, e.LeafIndex, path, m.Signer, m.Signature);
        }
    }

    private static byte[] Prepare(Transaction tx)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(buffer, tx.Encode());
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Accept(Hash256 txId, Decision decision, ReadOnlySpan<byte> proofs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WriteAccept(buffer, txId, decision, proofs);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Proofs(VoteCollector collector, Hash256 txId, Decision decision)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(1, collector.WriteProofs(buffer, txId, [1], decision));
        return buffer.WrittenSpan.ToArray();
    }

    private static VoteCollector CollectFromHonest(ulong sequence, VoteEntry[] votes, params int[] replicas)
    {
        var verifier = Verifier();
        var collector = new VoteCollector(Local.Config);
        foreach (int r in replicas) Collect(verifier, collector, SignedBatch(r, sequence, votes));
        return collector;
    }

    [Fact]
    public void Attack_AcceptWithValidProofOfAnotherTransaction_IsRejectedWithoutStateChange()
    {
        var h = new Shard0Ledger();
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        var other = Dummy.Spend([Shard0[1], Shard1[1]]);
        Assert.Equal(Decision.Commit, h.Run(Prepare(tx)).Decision);
        var before = h.Digest;

        // Shard 1 really voted commit on `other`: its proof, transplanted onto tx, must not decide tx.
        var collector = CollectFromHonest(7, [new VoteEntry(other.Id, Decision.Commit)], 0, 1);
        var reply = h.Run(Accept(tx.Id, Decision.Commit, Proofs(collector, other.Id, Decision.Commit)));
        Assert.Equal(LedgerStatus.InvalidProof, reply.Status);
        Assert.Equal(before, h.Digest);
        Assert.Equal(ObjectState.Locked, h.Objects.GetState(Shard0[0].Id));
    }

    [Fact]
    public void Attack_AcceptClaimingTheOtherDecisionThanItsProof_IsRejected()
    {
        var h = new Shard0Ledger();
        var tx = Dummy.Spend([Shard0[2], Shard1[2]]);
        h.Run(Prepare(tx));
        var before = h.Digest;
        // Shard 1 proved abort; an Accept claiming commit with that proof must not commit.
        var collector = CollectFromHonest(8, [new VoteEntry(tx.Id, Decision.Abort)], 2, 3);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx.Id, Decision.Commit, Proofs(collector, tx.Id, Decision.Abort))).Status);
        Assert.Equal(before, h.Digest);
        // The honest Accept (abort with that proof) releases the lock.
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Abort), h.Run(Accept(tx.Id, Decision.Abort, Proofs(collector, tx.Id, Decision.Abort))));
        Assert.Equal(ObjectState.Active, h.Objects.GetState(Shard0[2].Id));
    }

    [Fact]
    public void Attack_VotesSignedForAnotherEpoch_DoNotMakeAProof()
    {
        var h = new Shard0Ledger();
        var tx = Dummy.Spend([Shard0[3], Shard1[3]]);
        h.Run(Prepare(tx));
        var before = h.Digest;
        var oldEpoch = new ClusterConfig(Local.Config.ClusterId, Local.Config.Epoch + 1, Local.Config.Shards);
        var collector = new VoteCollector(Local.Config);
        // Collected without checking (as a careless or malicious relay would): the ledger's verifier must catch it.
        foreach (int r in new[] { 0, 1 }) Collect(null, collector, SignedBatch(r, 9, [new VoteEntry(tx.Id, Decision.Commit)], oldEpoch));
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx.Id, Decision.Commit, Proofs(collector, tx.Id, Decision.Commit))).Status);
        Assert.Equal(before, h.Digest);
        Assert.Equal(ObjectState.Locked, h.Objects.GetState(Shard0[3].Id));
    }

    [Fact]
    public void Attack_VotesReplayedUnderAnotherSender_AreRejectedByTheInitiator()
    {
        var tx = Dummy.Spend([Shard0[4], Shard1[4]]);
        var message = SignedBatch(0, 10, [new VoteEntry(tx.Id, Decision.Commit)]);
        var h = new Shard0Ledger();
        var initiator = new SbacInitiator(Local.Config, new NodeId(0, 0), Verifier());
        initiator.OnVotes(message, new NodeId(1, 2), h.Ledger, isPrimary: true);   // s1r0's batch, relayed by s1r2
        initiator.OnVotes(message, new NodeId(0, 1), h.Ledger, isPrimary: true);   // or by a replica of another shard
        Assert.Equal(2, initiator.RejectedVotes);
        Assert.Equal(0, initiator.PendingTransactions);
        initiator.OnVotes(message, new NodeId(1, 0), h.Ledger, isPrimary: true);   // from its signer: accepted
        Assert.Equal(2, initiator.RejectedVotes);
        Assert.Equal(1, initiator.PendingTransactions);
    }

    [Fact]
    public void Attack_EquivocatingReplica_CannotMakeTheShardDecideBothWays()
    {
        var h = new Shard0Ledger();
        var tx = Dummy.Spend([Shard0[5], Shard1[5]]);
        h.Run(Prepare(tx));
        var verifier = Verifier();
        var collector = new VoteCollector(Local.Config);
        // Honest replicas 0 and 1 of shard 1 vote commit; Byzantine replica 3 signs commit and abort at the same sequence.
        Collect(verifier, collector, SignedBatch(0, 11, [new VoteEntry(tx.Id, Decision.Commit)]));
        Collect(verifier, collector, SignedBatch(3, 11, [new VoteEntry(tx.Id, Decision.Abort)]));
        Collect(verifier, collector, SignedBatch(3, 11, [new VoteEntry(tx.Id, Decision.Commit)]));
        Collect(verifier, collector, SignedBatch(1, 11, [new VoteEntry(tx.Id, Decision.Commit)]));
        Assert.True(collector.TryGetLocalPrepared(tx.Id, 1, out var proved));
        Assert.Equal(Decision.Commit, proved);
        Assert.Equal(Decision.Commit, collector.Outcome(tx.Id, [0, 1], 0, Decision.Commit));
        Assert.Equal(0, collector.WriteProofs(new ArrayBufferWriter<byte>(), tx.Id, [1], Decision.Abort));   // one signer: no abort proof

        // The equivocator's abort signature, repeated to look like f+1, is not a proof.
        var forged = new ArrayBufferWriter<byte>();
        forged.GetSpan(1)[0] = 1;
        forged.Advance(1);
        Assert.True(VoteBatchMessage.TryDecode(SignedBatch(3, 11, [new VoteEntry(tx.Id, Decision.Abort)]), out var m, out _));
        var signature = m.Signature.ToArray();
        Assert.True(ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, 0, tx.Id, Decision.Abort, [], new Hash256[1]));
        LocalPreparedProof.Write(forged, 1, 11, m.LeafCount, m.Root, 0, Decision.Abort, [], [(3, signature), (3, signature)]);
        var before = h.Digest;
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx.Id, Decision.Abort, forged.WrittenSpan)).Status);
        Assert.Equal(before, h.Digest);

        // The commit proof decides; afterwards nothing (a replayed Accept, an abort claim) changes the decision.
        var commit = Proofs(collector, tx.Id, Decision.Commit);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Accept(tx.Id, Decision.Commit, commit)));
        var decided = h.Digest;
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Accept(tx.Id, Decision.Commit, commit)));
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Accept(tx.Id, Decision.Abort, forged.WrittenSpan)));
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Prepare(tx)));
        Assert.Equal(decided, h.Digest);
        Assert.Equal(ObjectState.Inactive, h.Objects.GetState(Shard0[5].Id));
    }
}
