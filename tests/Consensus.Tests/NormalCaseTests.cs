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

    // Regression: the request timer measured a pending batch from the last executed batch, so after an idle spell
    // longer than the timeout the first batch started a view change at the first tick before it executed (seen as
    // "view 1 installed" on the first transaction of a freshly started shard).
    [Fact]
    public void AfterAnIdleSpell_TheFirstBatch_DoesNotStartAViewChange()
    {
        var c = new TestCluster();
        c.TickAll(3 * new ReplicaOptions().RequestTimeoutTicks);
        c.Submit(5, 1);
        c.Step(0, Consensus.Input.Tick());   // the primary cuts the batch: it is pending there until it executes
        var held = new List<(int From, int To, byte[] Message)>();
        for (int tick = 0; tick < 3; tick++)
        {
            c.Run(m => { held.Add(m); return false; });   // the network is slow: the batch stays pending
            for (int i = 0; i < c.Replicas.Length; i++) c.Step(i, Consensus.Input.Tick());
        }
        foreach (var m in held) c.Network.Enqueue(m);
        c.Run();
        c.TickAll(2);
        Assert.All(c.Replicas, r => Assert.Equal(0UL, r.View));
        Assert.All(c.Apps, a => Assert.Equal(1UL, a.Count));
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
    public void LoneReplicaInHigherView_CatchesUpFromCommitCertificates_WithoutNewTraffic()
    {
        var c = new TestCluster();
        // Replica 3 is cut off while the others order and execute a few batches in view 0; a request sent to it
        // starts its request timer, so it times out alone and waits in view 1, which nobody else joins.
        c.Submit(9, 1, to: 3);
        for (int t = 0; t < 400 && !(c.Replicas[3].View >= 1 && c.Apps[0].Count >= 3); t++)
        {
            if (t % 20 == 0 && c.Apps[0].Count < 3) c.Submit(5, c.Apps[0].Count + 1);
            for (int i = 0; i < 4; i++) c.Step(i, Input.Tick());
            c.Run(m => m.To != 3 && m.From != 3);
        }
        Assert.True(c.Replicas[3].View >= 1 && !c.Replicas[3].ViewActive, "replica 3 moved to a higher view alone");
        Assert.All(c.Replicas.Take(3), r => Assert.True(r.View == 0 && r.ViewActive));
        ulong executed = c.Replicas[0].LastExecuted;
        Assert.True(executed >= 3 && c.Replicas[3].LastExecuted < executed);

        // Healed, and no client sends anything more: status messages alone must bring replica 3 level.
        for (int t = 0; t < 200 && c.Replicas[3].LastExecuted < executed; t++) c.TickAll();
        Assert.Equal(executed, c.Replicas[3].LastExecuted);
        Assert.Equal(c.Apps[0].Chain, c.Apps[3].Chain);
        Assert.Equal(c.Apps[0].Count, c.Apps[3].Count);
        Assert.All(c.Replicas.Take(3), r => Assert.True(r.View == 0 && r.ViewActive, "the others were not disturbed"));
    }

    [Fact]
    public void CommittedBatch_WithForgedOrTooFewCommits_IsRejected()
    {
        var c = new TestCluster();
        var body = new byte[64];
        Span<byte> buffer = new byte[Wire.CommittedBatchLengthMax(4, body.Length)];
        var signatures = new byte[3 * IReplicaSigner.SignatureSize];
        var replica = c.Replicas[3];

        // Three distinct signers with forged signatures.
        int length = Wire.WriteCommittedBatch(buffer, 1, 0, default, [0, 1, 2], signatures, body);
        c.Step(3, Input.Message(0, buffer[..length].ToArray()));
        Assert.Equal(1, replica.Rejected(RejectReason.BadSignature));
        // Fewer than 2f+1 signers, or one signer counted thrice.
        length = Wire.WriteCommittedBatch(buffer, 1, 0, default, [0, 1], signatures.AsSpan(0, 2 * IReplicaSigner.SignatureSize), body);
        c.Step(3, Input.Message(0, buffer[..length].ToArray()));
        Assert.Equal(1, replica.Rejected(RejectReason.Malformed));
        length = Wire.WriteCommittedBatch(buffer, 1, 0, default, [1, 1, 1], signatures, body);
        c.Step(3, Input.Message(0, buffer[..length].ToArray()));
        Assert.Equal(2, replica.Rejected(RejectReason.Malformed));
        // Truncated, and a signer outside the shard.
        c.Step(3, Input.Message(0, buffer[..(length / 2)].ToArray()));
        Assert.Equal(3, replica.Rejected(RejectReason.Malformed));
        length = Wire.WriteCommittedBatch(buffer, 1, 0, default, [0, 1, 7], signatures, body);
        c.Step(3, Input.Message(0, buffer[..length].ToArray()));
        Assert.Equal(4, replica.Rejected(RejectReason.Malformed));
        // Not the next batch to execute.
        length = Wire.WriteCommittedBatch(buffer, 5, 0, default, [0, 1, 2], signatures, body);
        c.Step(3, Input.Message(0, buffer[..length].ToArray()));
        Assert.Equal(1, replica.Rejected(RejectReason.OutsideWindow));
        Assert.Equal(0UL, replica.LastExecuted);
        Assert.Equal(0UL, c.Apps[3].Count);
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
