using Chainspace.Core.Cluster;

namespace Chainspace.Consensus.Tests;

public class NormalCaseTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NormalCase_PipelinedBatches_EveryReplicaExecutesSameOrder(bool ed25519)
    {
        var c = new TestCluster(ed25519: ed25519);
        for (ulong r = 1; r <= 40; r++) c.Submit(client: 1 + r % 3, number: r);
        c.Run();
        c.TickAll(3); // the batch timer flushes the last partial batch
        foreach (var app in c.Apps)
        {
            Assert.Equal(40UL, app.Count);
            Assert.Equal(c.Apps[0].Executed, app.Executed);
        }
        Assert.True(c.Replicas[0].LastExecuted >= 10); // batches of at most 4
        foreach (var r in c.Replicas)
        {
            var reasons = string.Join(",", Enum.GetValues<RejectReason>().Where(x => r.Rejected(x) > 0).Select(x => $"{x}={r.Rejected(x)}"));
            // Only late votes for sequences already below a stable checkpoint, and echoes, are dropped.
            Assert.True(r.TotalRejected == r.Rejected(RejectReason.Duplicate) + r.Rejected(RejectReason.OutsideWindow), reasons);
        }
        Assert.True(c.Replicas[0].StableSequence >= 8); // checkpoints every 4 batches became stable
    }

    [Fact]
    public void ReplyCollector_FPlusOneMatchingReplies_AcceptsOnceAndIgnoresLiars()
    {
        var c = new TestCluster();
        c.Submit(7, 1);
        c.Run();
        c.TickAll(2);
        var collector = new ReplyCollector(4);
        collector.Expect(1);
        var fake = new byte[Wire.ReplyLengthMax(8)];
        int fakeLength = Wire.WriteReply(fake, 0, 7, 1, 3, ReplyStatus.Executed, [9, 9, 9, 9, 9, 9, 9, 9]);
        Assert.False(collector.TryAccept(3, fake.AsSpan(0, fakeLength), 7, out _, out _, out _));
        int accepted = 0;
        foreach (var (from, client, reply) in c.Replies.Where(r => r.Client == 7))
        {
            if (collector.TryAccept(from, reply, 7, out ulong number, out var status, out var result))
            {
                accepted++;
                Assert.Equal(1UL, number);
                Assert.Equal(ReplyStatus.Executed, status);
                Assert.Equal(1UL, BitConverter.ToUInt64(result));
            }
        }
        Assert.Equal(1, accepted);
        Assert.Equal(0, collector.Outstanding);
    }

    [Fact]
    public void ExactlyOnce_ResentExecutedRequest_GetsCachedReplyAndDoesNotExecuteAgain()
    {
        var c = new TestCluster();
        c.Submit(9, 5);
        c.Run();
        c.TickAll(2);
        c.Replies.Clear();
        c.Submit(9, 5);
        c.Run();
        c.TickAll(2);
        Assert.Equal(1UL, c.Apps[0].Count);
        var (_, _, reply) = Assert.Single(c.Replies);
        Assert.True(Wire.TryReadReply(reply, 64, out var r));
        Assert.Equal(ReplyStatus.Executed, r.Status);
    }

    [Fact]
    public void ExactlyOnce_PipelinedWindow_OutOfOrderNumbersExecuteAndStaleAreRefused()
    {
        var options = new ReplicaOptions { BatchRequestsMax = 4, CheckpointInterval = 4, WatermarkWindow = 8, PipelineDepth = 4, ClientWindow = 64 };
        var c = new TestCluster(options: options);
        foreach (ulong n in new ulong[] { 100, 98, 99, 101, 97 }) c.Submit(3, n);
        c.Run();
        c.TickAll(2);
        Assert.Equal(5UL, c.Apps[0].Count);
        c.Replies.Clear();
        c.Submit(3, 36); // 101 - 64 = 37: anything at or below 37 is outside the window
        c.Run();
        Assert.Equal(5UL, c.Apps[0].Count);
        var (_, _, reply) = Assert.Single(c.Replies);
        Assert.True(Wire.TryReadReply(reply, 64, out var r));
        Assert.Equal(ReplyStatus.Stale, r.Status);
        c.Replies.Clear();
        c.Submit(3, 98);
        c.Run();
        Assert.True(Wire.TryReadReply(Assert.Single(c.Replies).Reply, 64, out var dup));
        Assert.Equal(ReplyStatus.AlreadyExecuted, dup.Status);
    }

    [Fact]
    public void Backup_ReceivingRequest_ForwardsToPrimary()
    {
        var c = new TestCluster();
        c.Submit(4, 1, to: 2);
        var (from, to, message) = Assert.Single(c.Network);
        Assert.Equal((2, 0), (from, to));
        Assert.Equal((byte)MessageType.Request, message[0]);
    }

    [Fact]
    public void ViewChange_SilentPrimary_BackupsMoveToNextViewAndExecute()
    {
        var c = new TestCluster();
        // The primary is gone: clients send to every replica, which forward and start their timers.
        for (int i = 1; i < 4; i++) c.Submit(5, 1, to: i);
        for (int t = 0; t < 400 && c.Apps[1].Count == 0; t++)
        {
            for (int i = 1; i < 4; i++) c.Step(i, Input.Tick());
            c.Run(m => m.To != 0 && m.From != 0);
        }
        Assert.All(c.Replicas.Skip(1), r => Assert.True(r.View >= 1 && r.ViewActive));
        Assert.All(c.Apps.Skip(1), a => Assert.Equal(1UL, a.Count));
    }

    [Fact]
    public void Recovery_ReplayedLog_RestoresStateAndExecution()
    {
        var c = new TestCluster();
        for (ulong r = 1; r <= 30; r++) c.Submit(1, r);
        c.Run();
        c.TickAll(3);
        var app = new ChainApp();
        var restarted = new Replica(c.Context, 2, c.Signers[2], app, c.Options);
        foreach (var record in c.Logs[2]) restarted.Recover(record);
        var outbox = new Outbox();
        restarted.CompleteRecovery(outbox);
        Assert.Equal(c.Replicas[2].LastExecuted, restarted.LastExecuted);
        Assert.Equal(c.Replicas[2].View, restarted.View);
        Assert.Equal(c.Apps[2].StateDigest(0), app.StateDigest(0));
        Assert.Equal(30UL, app.Count);
    }

    [Fact]
    public void ClientIds_ReplicaIdsRoundTripAndNeverCollideWithClients()
    {
        var id = ClientIds.ForReplica(new NodeId(3, 2));
        Assert.True(ClientIds.IsReplica(id));
        Assert.Equal(new NodeId(3, 2), ClientIds.ToNodeId(id));
        Assert.False(ClientIds.IsReplica(12345));
    }

    [Fact]
    public void Replica_SourceOfConsensus_UsesNoClockThreadRandomOrIo()
    {
        var dir = Path.Combine(FindRoot(), "src", "Consensus");
        string[] banned = ["DateTime", "Stopwatch", "Random", "Thread", "Task", "System.IO.File", "Socket", "Environment.TickCount"];
        foreach (var file in Directory.GetFiles(dir, "*.cs"))
        {
            var text = File.ReadAllText(file);
            foreach (var word in banned) Assert.False(text.Contains(word), $"{Path.GetFileName(file)} uses {word}");
        }
    }

    /// <summary>The repository root, found from the test binary's folder (CI builds map source paths to
    /// "/_/", so the caller's file path cannot be used).</summary>
    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Chainspace.Perf.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no Chainspace.Perf.sln above {AppContext.BaseDirectory}");
    }
}
