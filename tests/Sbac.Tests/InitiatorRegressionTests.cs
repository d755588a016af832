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
        var tokens = Dummy.GenesisTokens("initiator-regressions", 64).Where(t => Config.ShardMap.ShardOf(t.Id) == 0).ToArray();
        var tx = tokens.Select(t => Dummy.Spend([t])).First(t => t.Ids.AllOutputs.Any(o => Config.ShardMap.ShardOf(o.Id) == 1));
        var store = new ObjectStore();
        foreach (var t in tokens) store.Create([t.Id]);
        var verifier = new ProofVerifier(Config, [Key(0, 0), Key(1, 0)]);
        var ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = 0, Map = Config.ShardMap, Contracts = new ContractRegistry(Dummy.Instance), TransactionsCapacity = 64,
        }, store, verifier);
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, tx.Encode());
        ledger.BeginBatch(1);
        Assert.Equal(new LedgerReply(LedgerStatus.Decided, tx.Id, Decision.Commit), ledger.Execute(op.WrittenSpan));
        ledger.EndBatch(1);

        var initiator = new SbacInitiator(Config, new NodeId(0, 0), verifier);
        initiator.OnBatchExecuted(ledger, isPrimary: true);
        Assert.Empty(initiator.Actions);   // no proof of its own shard yet
        foreach (ushort r in new ushort[] { 0, 1 })
        {
            var signer = new VoteSigner(Config, new NodeId(0, r), Key(0, r));
            Assert.True(signer.SignBatch(1, ledger.BatchVotes));
            var message = new ArrayBufferWriter<byte>();
            signer.WriteMessage(message, ledger.BatchVotes, [0]);
            initiator.OnVotes(message.WrittenSpan, new NodeId(0, r), ledger, isPrimary: true);
        }
        var create = Assert.Single(initiator.Actions);
        Assert.Equal(InitiatorActionKind.SubmitCommand, create.Kind);
        Assert.Equal(1u, create.Shard);
        Assert.True(SbacCommand.TryDecode(create.Payload, Core.Codec.CodecLimits.Default, out var command, out _));
        Assert.Equal(SbacCommandKind.Create, command.Kind);
    }
}
