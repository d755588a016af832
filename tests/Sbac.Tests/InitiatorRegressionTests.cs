using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac.Tests;

/// <summary>Regressions found by the multi-shard simulator in the initiator.</summary>
public class InitiatorRegressionTests
{
    private const int N = 4;
    private static readonly ClusterConfig Config = ClusterConfig.CreateLocal(2, N, seed: "initiator-regressions").Config;
    private static KeyedHashSigner Key(int shard, int replica) => new([(byte)shard, 0x1E], N, replica);

    /// <summary>
    /// Simulator seed 20: a single-shard spend with an output in shard 1 never created it. The replica executed
    /// the decision before its own shard's votes arrived, then dropped those votes as "decided here already",
    /// so the Create proof (which needs f+1 votes of its own shard) never completed.
    /// </summary>
    [Fact]
    public void Initiator_OwnShardVotesAfterDecision_StillCompleteTheCreateProof()
    {
        var (tx, ledger, verifier) = SpendWithOutputInShard1();
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, tx.Encode());
        ledger.BeginBatch(1);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), ledger.Execute(op.WrittenSpan));
        ledger.EndBatch(1);

        var initiator = new SbacInitiator(Config, new NodeId(0, 0), verifier);
        initiator.OnBatchExecuted(ledger, isPrimary: true);
        Assert.Empty(initiator.Actions);   // no proof of its own shard yet
        DeliverVotes(initiator, ledger, [0]);
        var create = Assert.Single(initiator.Actions);
        Assert.Equal(InitiatorActionKind.SubmitCommand, create.Kind);
        Assert.Equal(1u, create.Shard);
        Assert.True(SbacCommand.TryDecode(create.Payload, Core.Codec.CodecLimits.Default, out var command, out _));
        Assert.Equal(SbacCommandKind.Create, command.Kind);
    }

    /// <summary>
    /// A first Create goes to f+1 replicas of the output shard (at least one correct replica orders or forwards it);
    /// a retry, the sign that it may not have been sequenced, goes to all. Commands to the initiator's own shard always
    /// go to all.
    /// </summary>
    [Fact]
    public void Initiator_FirstCreateGoesToFPlusOne_RetryToAll()
    {
        var (tx, ledger, verifier) = SpendWithOutputInShard1();
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, tx.Encode());
        ledger.BeginBatch(1);
        Assert.Equal(Decision.Commit, ledger.Execute(op.WrittenSpan).Decision);
        ledger.EndBatch(1);
        var initiator = new SbacInitiator(Config, new NodeId(0, 0), verifier, new InitiatorOptions { RetryDelayTicks = 3 });
        initiator.OnBatchExecuted(ledger, isPrimary: true);
        DeliverVotes(initiator, ledger, [0]);
        var first = Assert.Single(initiator.Actions);
        Assert.False(first.Retry);
        Assert.Equal(2, first.RecipientCount(ownShard: 0, replicas: N));
        Assert.Equal(N, first.RecipientCount(ownShard: 1, replicas: N));   // the same command to its own shard: all
        initiator.ClearActions();

        for (int tick = 0; tick < 3 && initiator.Actions.Count == 0; tick++) initiator.OnTick(isPrimary: true, ledger);
        var retry = Assert.Single(initiator.Actions);
        Assert.True(retry.Retry);
        Assert.Equal(N, retry.RecipientCount(ownShard: 0, replicas: N));
        Assert.Equal(first.Payload, retry.Payload);
    }

    /// <summary>Every Create one batch's votes make ready for a shard goes in one Creates command, cut to the size bound.</summary>
    [Fact]
    public void Initiator_CreatesOfOneBatch_GoAsOneCommandPerShard()
    {
        var (txs, one) = ProposeCreatesOfOneBatch(commandBytesMax: 60 * 1024);
        var command = Assert.Single(one);
        Assert.Equal(txs.Select(t => t.Id), CreatedBy(command, SbacCommandKind.Creates));

        // Entries all have the same size here: a bound with room for five and a half of them cuts the eight into 5 + 3.
        int entry = (command.Length - 4) / txs.Length;   // header, kind and a one-byte count in front
        var (_, cut) = ProposeCreatesOfOneBatch(commandBytesMax: 4 + 5 * entry + entry / 2);
        Assert.Equal(2, cut.Count);
        Assert.Equal(txs.Take(5).Select(t => t.Id), CreatedBy(cut[0], SbacCommandKind.Creates));
        Assert.Equal(txs.Skip(5).Select(t => t.Id), CreatedBy(cut[1], SbacCommandKind.Creates));
        Assert.All(cut, c => Assert.True(c.Length <= 4 + 5 * entry + entry / 2));
    }

    /// <summary>Eight spends of shard-0 tokens with outputs in shard 1, executed in one batch and proven by f+1 votes.</summary>
    private static (Transaction[] Txs, List<byte[]> Commands) ProposeCreatesOfOneBatch(int commandBytesMax)
    {
        var tokens = Dummy.GenesisTokens("initiator-regressions", 256).Where(t => Config.ShardMap.ShardOf(t.Id) == 0).ToArray();
        var txs = tokens.Select(t => Dummy.Spend([t])).Where(t => t.Ids.AllOutputs.Any(o => Config.ShardMap.ShardOf(o.Id) == 1)).Take(8).ToArray();
        Assert.Equal(8, txs.Length);
        var (ledger, verifier) = Shard0Ledger(tokens);
        ledger.BeginBatch(1);
        foreach (var tx in txs)
        {
            var op = new ArrayBufferWriter<byte>();
            SbacCommand.WritePrepare(op, tx.Encode());
            Assert.Equal(Decision.Commit, ledger.Execute(op.WrittenSpan).Decision);
        }
        ledger.EndBatch(1);
        var initiator = new SbacInitiator(Config, new NodeId(0, 0), verifier, new InitiatorOptions { CommandBytesMax = commandBytesMax });
        initiator.OnBatchExecuted(ledger, isPrimary: true);
        int[] all = Enumerable.Range(0, txs.Length).ToArray();
        DeliverVotes(initiator, ledger, all);
        Assert.All(initiator.Actions, a => Assert.Equal((InitiatorActionKind.SubmitCommand, 1u), (a.Kind, a.Shard)));
        return (txs, initiator.Actions.Select(a => a.Payload!).ToList());
    }

    /// <summary>A spend of a shard-0 token with an output in shard 1, and shard 0's ledger holding the tokens.</summary>
    private static (Transaction Tx, ShardLedger Ledger, ProofVerifier Verifier) SpendWithOutputInShard1()
    {
        var tokens = Dummy.GenesisTokens("initiator-regressions", 64).Where(t => Config.ShardMap.ShardOf(t.Id) == 0).ToArray();
        var tx = tokens.Select(t => Dummy.Spend([t])).First(t => t.Ids.AllOutputs.Any(o => Config.ShardMap.ShardOf(o.Id) == 1));
        var (ledger, verifier) = Shard0Ledger(tokens);
        return (tx, ledger, verifier);
    }

    /// <summary>Shard 0's replicas 0 and 1 (f+1) sign batch 1's votes and send the entries at <paramref name="indexes"/>.</summary>
    private static void DeliverVotes(SbacInitiator initiator, ShardLedger ledger, int[] indexes)
    {
        foreach (ushort r in new ushort[] { 0, 1 })
        {
            var signer = new VoteSigner(Config, new NodeId(0, r), Key(0, r));
            Assert.True(signer.SignBatch(1, ledger.BatchVotes));
            var message = new ArrayBufferWriter<byte>();
            signer.WriteMessage(message, ledger.BatchVotes, indexes);
            initiator.OnVotes(message.WrittenSpan, new NodeId(0, r), ledger, isPrimary: true);
        }
    }

    /// <summary>Shard 0's ledger holding <paramref name="tokens"/>, and a verifier of both shards' keyed-hash votes.</summary>
    private static (ShardLedger Ledger, ProofVerifier Verifier) Shard0Ledger(ChainObject[] tokens)
    {
        var store = new ObjectStore();
        foreach (var t in tokens) store.Create([t.Id]);
        var verifier = new ProofVerifier(Config, [Key(0, 0), Key(1, 0)]);
        var ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = 0, Map = Config.ShardMap, Contracts = new ContractRegistry(Dummy.Instance), TransactionsCapacity = 64,
        }, store, verifier);
        return (ledger, verifier);
    }

    private static List<Hash256> CreatedBy(byte[] payload, SbacCommandKind kind)
    {
        Assert.True(SbacCommand.TryDecode(payload, Core.Codec.CodecLimits.Default, out var command, out var failure), failure.Describe());
        Assert.Equal(kind, command.Kind);
        var ids = new List<Hash256>();
        var entries = command.EnumerateCreates();
        while (entries.MoveNext())
        {
            Assert.Equal(1, entries.ProofCount);   // shard 0's LOCALPREPARED(commit)
            ids.Add(Transaction.Decode(entries.Transaction).Id);
        }
        Assert.Equal(command.EntryCount, ids.Count);
        return ids;
    }
}
