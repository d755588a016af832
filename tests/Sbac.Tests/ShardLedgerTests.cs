using Chainspace.Storage.Objects;
using System.Buffers;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Sbac.Tests;

public class ShardLedgerTests
{
    private static readonly ShardMap Map = new(2);
    private static readonly ChainObject[] Tokens = Dummy.GenesisTokens("ledger", 64).ToArray();
    private static readonly ChainObject[] Shard0 = Tokens.Where(t => Map.ShardOf(t.Id) == 0).ToArray();
    private static readonly ChainObject[] Shard1 = Tokens.Where(t => Map.ShardOf(t.Id) == 1).ToArray();

    private sealed class Harness
    {
        public readonly ObjectStore Objects = new();
        public readonly ScriptedVerifier Verifier = new();
        public readonly ShardLedger Ledger;
        private ulong _sequence;

        public Harness(ushort shard, int batchVotesMax = 8192)
        {
            Ledger = new ShardLedger(new ShardLedgerOptions
            {
                Shard = shard,
                Map = Map,
                Contracts = new ContractRegistry(Dummy.Instance, CsCoin.Instance),
                TransactionsCapacity = 64,
                BatchVotesMax = batchVotesMax,
            }, Objects, Verifier);
            foreach (var t in Tokens.Where(t => Map.ShardOf(t.Id) == shard)) Objects.Create([t.Id]);
        }

        public LedgerReply Run(byte[] operation)
        {
            Ledger.BeginBatch(++_sequence);
            var reply = Ledger.Execute(operation);
            Ledger.EndBatch(_sequence);
            Ledger.CheckInvariants();
            return reply;
        }
    }

    private static byte[] Prepare(Transaction tx)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(buffer, tx.Encode());
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An Accept with one (structurally valid) proof per listed shard; the verifier decides validity.</summary>
    private static byte[] Accept(Transaction tx, Decision decision, params uint[] proofShards)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WriteAccept(buffer, tx.Id, decision, Proofs(decision, proofShards));
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Create(Transaction tx, params uint[] proofShards)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WriteCreate(buffer, tx.Encode(), Proofs(Decision.Commit, proofShards));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A Creates command: each transaction with one commit proof from shard 0.</summary>
    private static byte[] Creates(params Transaction[] txs)
    {
        var entries = new ArrayBufferWriter<byte>();
        foreach (var tx in txs) SbacCommand.WriteCreateEntry(entries, tx.Encode(), Proofs(Decision.Commit, [0]));
        var buffer = new ArrayBufferWriter<byte>();
        SbacCommand.WriteCreates(buffer, txs.Length, entries.WrittenSpan);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Spends of one shard-0 token each whose outputs include a shard-1 object (shard 1 creates them).</summary>
    private static Transaction[] SpendsWithOutputsInShard1(int count) =>
        Enumerable.Range(0, Shard0.Length).Select(i => Dummy.Spend([Shard0[i]]))
            .Where(t => t.Ids.AllOutputs.Any(o => Map.ShardOf(o.Id) == 1)).Take(count).ToArray();

    private static byte[] Proofs(Decision decision, uint[] shards)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.GetSpan(1)[0] = (byte)shards.Length;
        buffer.Advance(1);
        foreach (uint s in shards)
        {
            LocalPreparedProof.Write(buffer, s, 7, 1, Hashing.Sha256("root"u8), 0, decision, [],
                [(0, new byte[64]), (1, new byte[64])]);
        }
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Prepare_SingleShardTransaction_DecidesAtOnce()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0]]);
        var reply = h.Run(Prepare(tx));
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), reply);
        Assert.Equal(ObjectState.Inactive, h.Objects.GetState(Shard0[0].Id, out _));
        foreach (var o in tx.Ids.AllOutputs.Where(o => Map.ShardOf(o.Id) == 0))
            Assert.Equal(ObjectState.Active, h.Objects.GetState(o.Id, out _));
        foreach (var o in tx.Ids.AllOutputs.Where(o => Map.ShardOf(o.Id) == 1))
            Assert.Equal(ObjectState.Absent, h.Objects.GetState(o.Id, out _));   // created there by Create
        Assert.Equal([new VoteEntry(tx.Id, Decision.Commit)], h.Ledger.BatchVotes.ToArray());
        Assert.Equal([new VoteEntry(tx.Id, Decision.Commit)], h.Ledger.BatchDecisions.ToArray());
    }

    [Fact]
    public void Prepare_DoubleSpendInOneShard_SecondAborts()
    {
        var h = new Harness(0);
        var first = Dummy.Spend([Shard0[0]]);
        var second = Dummy.Spend([Shard0[0], Shard0[1]]);
        Assert.Equal(Decision.Commit, h.Run(Prepare(first)).Decision);
        Assert.Equal(Decision.Abort, h.Run(Prepare(second)).Decision);
        Assert.Equal(ObjectState.Active, h.Objects.GetState(Shard0[1].Id, out _));   // abort locked nothing
    }

    [Fact]
    public void Prepare_CrossShard_LocksAndConflictingTransactionAbortsInsteadOfBlocking()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        var reply = h.Run(Prepare(tx));
        Assert.Equal(new LedgerReply(LedgerStatus.Voted, tx.Id, Decision.Commit), reply);
        Assert.Equal(ObjectState.Locked, h.Objects.GetState(Shard0[0].Id, out var owner));
        Assert.Equal(tx.Id, owner);
        Assert.True(h.Ledger.TryGetPendingBody(tx.Id, out var body));
        Assert.Equal(tx.Encode(), body.ToArray());

        var conflicting = Dummy.Spend([Shard0[0]]);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, conflicting.Id, Decision.Abort), h.Run(Prepare(conflicting)));
    }

    [Fact]
    public void Prepare_Replayed_ReturnsRecordedVoteAndChangesNothing()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Run(Prepare(tx));
        Assert.Equal(new LedgerReply(LedgerStatus.AlreadyVoted, tx.Id, Decision.Commit), h.Run(Prepare(tx)));
        Assert.Empty(h.Ledger.BatchVotes.ToArray());   // no second vote is cast
        // After the decision, a replayed Prepare gets the decision, not a fresh vote on the new state.
        h.Verifier.Allow(1, Decision.Commit, tx.Id);
        h.Run(Accept(tx, Decision.Commit, 1));
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Prepare(tx)));
        Assert.Empty(h.Ledger.BatchVotes.ToArray());
    }

    [Fact]
    public void Accept_CommitWithProofFromEveryOtherShard_ConsumesInputsAndCreatesOutputs()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Run(Prepare(tx));
        h.Verifier.Allow(1, Decision.Commit, tx.Id);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Accept(tx, Decision.Commit, 1)));
        Assert.Equal(ObjectState.Inactive, h.Objects.GetState(Shard0[0].Id, out _));
        Assert.Equal(ObjectState.Absent, h.Objects.GetState(Shard1[0].Id, out _));   // shard 1's business
        foreach (var o in tx.Ids.AllOutputs.Where(o => Map.ShardOf(o.Id) == 0))
            Assert.Equal(ObjectState.Active, h.Objects.GetState(o.Id, out _));
        Assert.False(h.Ledger.TryGetPendingBody(tx.Id, out _));
    }

    [Fact]
    public void Accept_CommitWithoutValidProof_IsRejectedWithoutStateChange()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Run(Prepare(tx));
        // No proof for shard 1, then a proof the verifier rejects, then an abort-proof dressed as commit.
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx, Decision.Commit)).Status);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx, Decision.Commit, 1)).Status);
        h.Verifier.Allow(1, Decision.Abort, tx.Id);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx, Decision.Commit, 1)).Status);
        Assert.Equal(ObjectState.Locked, h.Objects.GetState(Shard0[0].Id, out _));
        Assert.True(h.Ledger.TryGetTransaction(tx.Id, out var vote, out var final));
        Assert.Equal(Decision.Commit, vote);
        Assert.Null(final);
    }

    [Fact]
    public void Accept_AbortFromOtherShard_ReleasesLocks()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Run(Prepare(tx));
        h.Verifier.Allow(1, Decision.Abort, tx.Id);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Abort), h.Run(Accept(tx, Decision.Abort, 1)));
        Assert.Equal(ObjectState.Active, h.Objects.GetState(Shard0[0].Id, out _));
        // The released object can now be spent by another transaction.
        Assert.Equal(Decision.Commit, h.Run(Prepare(Dummy.Spend([Shard0[0]]))).Decision);
    }

    [Fact]
    public void Accept_AbortProofFromShardNotConcerned_IsRejected()
    {
        // Three shards; T concerns shards 0 and 1. A (validly signed) abort vote of shard 2 is not evidence about T.
        var map3 = new ShardMap(3);
        var objects = Dummy.GenesisTokens("three", 64).ToArray();
        var in0 = objects.First(o => map3.ShardOf(o.Id) == 0);
        var in1 = objects.First(o => map3.ShardOf(o.Id) == 1);
        var table = new ObjectStore(256);
        table.Create([in0.Id]);
        var verifier = new ScriptedVerifier();
        var ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = 0, Map = map3, Contracts = new ContractRegistry(Dummy.Instance), TransactionsCapacity = 64,
        }, table, verifier);
        var tx = Dummy.Spend([in0, in1]);
        ledger.BeginBatch(1);
        Assert.Equal(Decision.Commit, ledger.Execute(Prepare(tx)).Decision);
        verifier.Allow(2, Decision.Abort, tx.Id);
        Assert.Equal(LedgerStatus.InvalidProof, ledger.Execute(Accept(tx, Decision.Abort, 2)).Status);
        Assert.Equal(ObjectState.Locked, table.GetState(in0.Id, out _));
        verifier.Allow(1, Decision.Abort, tx.Id);
        Assert.Equal(Decision.Abort, ledger.Execute(Accept(tx, Decision.Abort, 1)).Decision);
        Assert.Equal(ObjectState.Active, table.GetState(in0.Id, out _));
        ledger.EndBatch(1);
        ledger.CheckInvariants();
    }

    [Fact]
    public void Accept_Twice_DecidesOnce()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Run(Prepare(tx));
        h.Verifier.Allow(1, Decision.Commit, tx.Id);
        h.Verifier.Allow(1, Decision.Abort, tx.Id);
        h.Run(Accept(tx, Decision.Commit, 1));
        // A later, conflicting Accept (e.g. replayed by a Byzantine replica) returns the decision.
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Accept(tx, Decision.Abort, 1)));
        Assert.Empty(h.Ledger.BatchDecisions.ToArray());
    }

    [Fact]
    public void Accept_AbortBeforePrepare_IsRememberedForALaterPrepare()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Verifier.Allow(1, Decision.Abort, tx.Id);
        Assert.Equal(Decision.Abort, h.Run(Accept(tx, Decision.Abort, 1)).Decision);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Abort), h.Run(Prepare(tx)));
        Assert.Equal(ObjectState.Active, h.Objects.GetState(Shard0[0].Id, out _));   // never locked
    }

    [Fact]
    public void Accept_CommitForTransactionThisShardVotedToAbort_IsRejected()
    {
        var h = new Harness(0);
        var spender = Dummy.Spend([Shard0[0]]);
        h.Run(Prepare(spender));   // consumes Shard0[0]
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        Assert.Equal(Decision.Abort, h.Run(Prepare(tx)).Decision);
        h.Verifier.Allow(1, Decision.Commit, tx.Id);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Accept(tx, Decision.Commit, 1)).Status);
    }

    [Fact]
    public void Create_OnShardNotConcerned_CreatesOutputsOnAllPrepared()
    {
        // A transaction spending only shard-0 objects whose outputs include shard-1 objects.
        var tx = Enumerable.Range(0, Shard0.Length).Select(i => Dummy.Spend([Shard0[i]]))
            .First(t => t.Ids.AllOutputs.Any(o => Map.ShardOf(o.Id) == 1));
        var h = new Harness(1);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Create(tx, 0)).Status);   // proof not valid yet
        h.Verifier.Allow(0, Decision.Commit, tx.Id);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Create(tx, 0)));
        foreach (var o in tx.Ids.AllOutputs.Where(o => Map.ShardOf(o.Id) == 1))
            Assert.Equal(ObjectState.Active, h.Objects.GetState(o.Id, out _));
        // Replayed Create: decided once, nothing created twice.
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), h.Run(Create(tx, 0)));
    }

    [Fact]
    public void Creates_EachEntryIsDecidedOnItsOwn()
    {
        var txs = SpendsWithOutputsInShard1(3);
        var h = new Harness(1);
        h.Verifier.Allow(0, Decision.Commit, txs[0].Id);
        h.Verifier.Allow(0, Decision.Commit, txs[2].Id);   // txs[1]'s proof does not verify
        var reply = h.Run(Creates(txs));
        Assert.Equal(new LedgerReply(LedgerStatus.InvalidProof, txs[1].Id, null), reply);   // the first entry not decided
        Assert.Equal([new VoteEntry(txs[0].Id, Decision.Commit), new VoteEntry(txs[2].Id, Decision.Commit)], h.Ledger.BatchVotes.ToArray());
        foreach (var (tx, created) in new[] { (txs[0], true), (txs[1], false), (txs[2], true) })
        {
            foreach (var o in tx.Ids.AllOutputs.Where(o => Map.ShardOf(o.Id) == 1))
                Assert.Equal(created ? ObjectState.Active : ObjectState.Absent, h.Objects.GetState(o.Id, out _));
        }
        // Replayed with every proof valid: the decided entries stay decided once, the other one is created now.
        h.Verifier.Allow(0, Decision.Commit, txs[1].Id);
        int objects = h.Objects.Count;
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, txs[2].Id, Decision.Commit), h.Run(Creates(txs)));
        Assert.Equal([new VoteEntry(txs[1].Id, Decision.Commit)], h.Ledger.BatchVotes.ToArray());
        Assert.Equal(objects + txs[1].Ids.AllOutputs.Count(o => Map.ShardOf(o.Id) == 1), h.Objects.Count);
    }

    [Fact]
    public void Creates_BeyondTheBatchVoteTable_AreDeferredUndecided()
    {
        var txs = SpendsWithOutputsInShard1(3);
        var h = new Harness(1, batchVotesMax: 2);
        foreach (var tx in txs) h.Verifier.Allow(0, Decision.Commit, tx.Id);
        Assert.Equal(LedgerStatus.Deferred, h.Run(Creates(txs)).Status);
        Assert.Equal(2, h.Ledger.BatchVotes.Length);
        Assert.False(h.Ledger.TryGetTransaction(txs[2].Id, out _, out _));   // untouched: proposed again later
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, txs[2].Id, Decision.Commit), h.Run(Creates(txs)));
        Assert.Equal([new VoteEntry(txs[2].Id, Decision.Commit)], h.Ledger.BatchVotes.ToArray());
    }

    [Fact]
    public void OwnShardUsesVote_OnlyWhenAReplicaOfThisShardNeedsIt()
    {
        var h = new Harness(0);
        var staysHere = Enumerable.Range(0, Shard0.Length).Select(i => Dummy.Spend([Shard0[i]]))
            .First(t => t.Ids.AllOutputs.All(o => Map.ShardOf(o.Id) == 0));
        var spentThere = Shard0.First(t => Dummy.Spend([t]).Ids.AllOutputs.Any(o => Map.ShardOf(o.Id) == 1));
        var createsThere = Dummy.Spend([spentThere]);
        var crossShard = Dummy.Spend([Shard0[^1], Shard1[0]]);
        foreach (var (tx, used) in new[] { (staysHere, false), (createsThere, true), (crossShard, true) })
        {
            h.Run(Prepare(tx));
            Assert.Equal(tx.Id, h.Ledger.BatchVotes[0].TransactionId);
            Assert.Equal(used, h.Ledger.OwnShardUsesVote(0));
        }
        // An abort decided here alone drives nothing either, whatever its outputs.
        var doubleSpend = Dummy.Spend([spentThere], "again"u8.ToArray());
        Assert.Equal(Decision.Abort, h.Run(Prepare(doubleSpend)).Decision);
        Assert.False(h.Ledger.OwnShardUsesVote(0));
    }

    [Fact]
    public void Create_OnConcernedShard_IsRejected()
    {
        var h = new Harness(0);
        var tx = Dummy.Spend([Shard0[0], Shard1[0]]);
        h.Verifier.Allow(0, Decision.Commit, tx.Id);
        h.Verifier.Allow(1, Decision.Commit, tx.Id);
        Assert.Equal(LedgerStatus.InvalidProof, h.Run(Create(tx, 0, 1)).Status);
        Assert.Equal(ObjectState.Active, h.Objects.GetState(Shard0[0].Id, out _));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 1, 1, 9 })]
    [InlineData(new byte[] { 1, 1, 1, 200 })]
    [InlineData(new byte[] { 2, 1, 1, 0 })]
    [InlineData(new byte[] { 1, 1, 4, 0 })]             // Creates of no entry
    [InlineData(new byte[] { 1, 1, 4, 2, 1, 7, 0 })]    // two entries announced, one there
    [InlineData(new byte[] { 1, 1, 4, 1, 1, 7, 0, 0 })] // trailing byte after the last entry
    [InlineData(new byte[] { 1, 1, 4, 1, 1, 7, 1, 0 })] // an entry's proof list announces a proof that is not there
    public void Execute_MalformedCommand_IsRejectedWithoutStateChange(byte[] operation)
    {
        var h = new Harness(0);
        int before = h.Objects.Count;
        Assert.Equal(LedgerStatus.Malformed, h.Run(operation).Status);
        Assert.Equal(before, h.Objects.Count);
        Assert.Equal(0, h.Ledger.TransactionCount);
    }

    [Fact]
    public void Prepare_ShardNotConcerned_CastsNoVote()
    {
        var h = new Harness(1);
        var tx = Dummy.Spend([Shard0[0]]);
        Assert.Equal(new LedgerReply(LedgerStatus.NotConcerned, tx.Id, null), h.Run(Prepare(tx)));
        Assert.Equal(0, h.Ledger.TransactionCount);
    }
}
