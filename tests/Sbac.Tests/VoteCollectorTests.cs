using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac.Tests;

public class VoteCollectorTests
{
    private static readonly ClusterConfig Config = ClusterConfig.CreateLocal(3, 4).Config;   // f = 1: proofs need 2
    private static readonly Hash256 Tx = Hashing.Sha256("tx"u8);
    private static readonly Hash256 Root = Hashing.Sha256("root"u8);
    private static readonly Hash256 OtherRoot = Hashing.Sha256("other"u8);
    private static readonly Hash256[] Path = [Hashing.Sha256("p0"u8), Hashing.Sha256("p1"u8)];

    private static VoteCollector.AddResult Vote(VoteCollector c, uint shard, Decision d, ushort replica, Hash256? root = null) =>
        c.Add(Tx, shard, d, 9, 3, root ?? Root, 1, Path, replica, new byte[64]);

    [Fact]
    public void Collector_FPlusOneDistinctSigners_CompleteTheProof()
    {
        var c = new VoteCollector(Config);
        Assert.Equal(VoteCollector.AddResult.Added, Vote(c, 1, Decision.Commit, 0));
        Assert.Equal(VoteCollector.AddResult.Duplicate, Vote(c, 1, Decision.Commit, 0));
        Assert.False(c.TryGetLocalPrepared(Tx, 1, out _));
        Assert.Equal(VoteCollector.AddResult.Completed, Vote(c, 1, Decision.Commit, 2));
        Assert.True(c.TryGetLocalPrepared(Tx, 1, out var d));
        Assert.Equal(Decision.Commit, d);
        Assert.Equal(VoteCollector.AddResult.Duplicate, Vote(c, 1, Decision.Commit, 3));
    }

    [Fact]
    public void Collector_SignersOfDifferentStatements_DoNotAddUp()
    {
        // A Byzantine replica signing another root (or the other decision) cannot complete an honest one's group.
        var c = new VoteCollector(Config);
        Vote(c, 1, Decision.Commit, 0);
        Vote(c, 1, Decision.Commit, 1, OtherRoot);
        Vote(c, 1, Decision.Abort, 2);
        Assert.False(c.TryGetLocalPrepared(Tx, 1, out _));
    }

    [Fact]
    public void Collector_UnknownShardOrReplica_IsRefused()
    {
        var c = new VoteCollector(Config);
        Assert.Equal(VoteCollector.AddResult.UnknownReplica, Vote(c, 7, Decision.Commit, 0));
        Assert.Equal(VoteCollector.AddResult.UnknownReplica, Vote(c, 1, Decision.Commit, 4));
        Assert.Equal(0, c.PendingTransactions);
    }

    [Fact]
    public void Collector_IsBounded()
    {
        var c = new VoteCollector(Config, transactionsMax: 1);
        Vote(c, 1, Decision.Commit, 0);
        Assert.Equal(VoteCollector.AddResult.Full,
            c.Add(Hashing.Sha256("another"u8), 1, Decision.Commit, 9, 3, Root, 1, Path, 0, new byte[64]));
    }

    [Fact]
    public void Outcome_AllCommitOrSomeAbort()
    {
        var c = new VoteCollector(Config);
        uint[] concerned = [0, 1, 2];
        Assert.Null(c.Outcome(Tx, concerned, 0, Decision.Commit));
        Vote(c, 1, Decision.Commit, 0);
        Vote(c, 1, Decision.Commit, 1);
        Assert.Null(c.Outcome(Tx, concerned, 0, Decision.Commit));
        Vote(c, 2, Decision.Commit, 0);
        Vote(c, 2, Decision.Commit, 1);
        Assert.Equal(Decision.Commit, c.Outcome(Tx, concerned, 0, Decision.Commit));
        Assert.Equal(Decision.Abort, c.Outcome(Tx, concerned, 0, Decision.Abort));
        // One abort proof decides abort even while another shard is still silent.
        var d = new VoteCollector(Config);
        Vote(d, 2, Decision.Abort, 0);
        Vote(d, 2, Decision.Abort, 3);
        Assert.Equal(Decision.Abort, d.Outcome(Tx, concerned, 0, null));
    }

    [Fact]
    public void WriteProofs_ProducesAnAcceptThatDecodes()
    {
        var c = new VoteCollector(Config);
        Vote(c, 1, Decision.Commit, 0);
        Vote(c, 1, Decision.Commit, 3);
        Vote(c, 2, Decision.Commit, 1);
        Vote(c, 2, Decision.Commit, 2);
        var proofs = new ArrayBufferWriter<byte>();
        Assert.Equal(2, c.WriteProofs(proofs, Tx, [1, 2], Decision.Commit));
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WriteAccept(op, Tx, Decision.Commit, proofs.WrittenSpan);
        Assert.True(SbacCommand.TryDecode(op.WrittenSpan, CodecLimits.Default, out var command, out var failure), failure.Describe());
        Assert.Equal(2, command.ProofCount);
        Assert.Equal(SbacCommandKind.Accept, command.Kind);

        var reader = new SpanReader(command.Proofs);
        reader.TryReadVarUInt64(out _);
        Assert.True(LocalPreparedProof.TryRead(command.Proofs[reader.Consumed..], out var first, out _, out _));
        Assert.Equal(1u, first.Shard);
        Assert.Equal(Root, first.Root);
        Assert.Equal(2, first.SignatureCount);
        var signers = new List<ushort>();
        var e = first.EnumerateSignatures();
        while (e.MoveNext()) signers.Add(e.Replica);
        Assert.Equal([0, 3], signers);

        c.Forget(Tx);
        Assert.Equal(0, c.PendingTransactions);
    }
}
