namespace Chainspace.Consensus.Tests;

/// <summary>
/// Snapshots larger than one piece (<see cref="ReplicaOptions.SnapshotChunkBytes"/>): a state that outgrew a log
/// record or a transport frame used to stop every replica at its next stable checkpoint, and could not be moved
/// by state transfer. Here a 1,040-byte snapshot moves in 256-byte pieces.
/// </summary>
public class SnapshotPieceTests
{
    private const int Padding = 1000;
    private const int Pieces = (40 + Padding + 255) / 256;

    private static TestCluster Cluster()
    {
        var c = new TestCluster(options: new ReplicaOptions
        {
            BatchRequestsMax = 4, CheckpointInterval = 4, WatermarkWindow = 8, PipelineDepth = 4, BatchDelayTicks = 1, SnapshotChunkBytes = 256,
        });
        foreach (var app in c.Apps) app.Padding = Padding;
        return c;
    }

    private static (Replica Replica, ChainApp App) Recover(TestCluster c, int replica, IEnumerable<byte[]> records)
    {
        var app = new ChainApp { Padding = Padding };
        var restarted = new Replica(c.Context, replica, c.Signers[replica], app, c.Options);
        foreach (var record in records) restarted.Recover(record);
        restarted.CompleteRecovery(new Outbox());
        return (restarted, app);
    }

    /// <summary>30 requests of 4 per batch, a checkpoint every 4 batches: two stable checkpoints, both logged.</summary>
    private static TestCluster ClusterAfter30Requests()
    {
        var c = Cluster();
        for (ulong r = 1; r <= 30; r++) c.Submit(1, r);
        c.Run();
        c.TickAll(3);
        return c;
    }

    private const byte StableRecord = 7;
    private const byte SnapshotChunkRecord = 8;

    [Fact]
    public void StableSnapshot_IsLoggedInPieces_AndRecoveryRestoresIt()
    {
        var c = ClusterAfter30Requests();
        var log = c.Logs[2];
        Assert.True(c.Replicas[2].StableSequence >= 8);
        int pieces = log.Count(record => record[0] == SnapshotChunkRecord);
        Assert.True(pieces >= 2 * Pieces, $"{pieces} snapshot pieces logged");
        Assert.All(log.Where(record => record[0] == SnapshotChunkRecord), record => Assert.True(record.Length <= 256 + 32, $"a {record.Length}-byte piece"));
        Assert.All(log.Where(record => record[0] == StableRecord), record => Assert.True(record.Length < 40 + Padding, $"a {record.Length}-byte stable record"));

        var (restarted, app) = Recover(c, 2, log);
        Assert.Equal(c.Replicas[2].LastExecuted, restarted.LastExecuted);
        Assert.Equal(c.Apps[2].StateDigest(0), app.StateDigest(0));
        Assert.Equal(30UL, app.Count);
    }

    [Fact]
    public void Recovery_OlderSnapshotWhosePiecesWereTruncated_IsSkippedForTheNewerOne()
    {
        var c = ClusterAfter30Requests();
        // Drop everything before the second piece of the first logged snapshot, as truncating a segment that ends
        // inside an older snapshot's pieces does: that snapshot's record survives without its first piece.
        var log = c.Logs[2];
        int first = log.FindIndex(record => record[0] == SnapshotChunkRecord);
        var truncated = log.Skip(first + 1).ToList();
        Assert.Equal(SnapshotChunkRecord, truncated[0][0]);

        var (restarted, app) = Recover(c, 2, truncated);
        Assert.Equal(c.Replicas[2].LastExecuted, restarted.LastExecuted);
        Assert.Equal(c.Apps[2].StateDigest(0), app.StateDigest(0));
    }

    [Fact]
    public void StateTransfer_LaggingReplica_FetchesTheSnapshotPieceByPiece()
    {
        var c = Cluster();
        bool isolated = true;
        bool Deliver((int From, int To, byte[] Message) m) => !isolated || (m.From != 3 && m.To != 3);
        for (ulong r = 1; r <= 60; r++)
        {
            c.Submit(1, r);
            c.Run(Deliver);
        }
        for (int t = 0; t < 5; t++)
        {
            for (int i = 0; i < 4; i++) c.Step(i, Input.Tick());
            c.Run(Deliver);
        }
        Assert.Equal(0UL, c.Replicas[3].LastExecuted);
        Assert.True(c.Replicas[0].StableSequence >= 12);

        isolated = false;
        int fetches = 0;
        for (int t = 0; t < 200 && c.Replicas[3].LastExecuted < c.Replicas[0].LastExecuted; t++)
        {
            for (int i = 0; i < 4; i++) c.Step(i, Input.Tick());
            c.Run(m =>
            {
                if (m.From == 3 && m.Message[0] == (byte)MessageType.FetchState) fetches++;
                return true;
            });
        }
        Assert.Equal(c.Replicas[0].LastExecuted, c.Replicas[3].LastExecuted);
        Assert.Equal(c.Apps[0].StateDigest(0), c.Apps[3].StateDigest(0));
        Assert.True(fetches >= Pieces, $"{fetches} fetches for a snapshot of {Pieces} pieces");
        Assert.Equal(0L, c.Replicas[3].Rejected(RejectReason.DigestMismatch));
    }

    /// <summary>Replica 3 misses 60 requests (several checkpoints), then hears the others again and asks one of them
    /// for a snapshot piece; that request and everything sent to 3 afterwards are held back.</summary>
    private static (TestCluster Cluster, int Source) LaggingReplicaThatAsked()
    {
        var c = Cluster();
        for (ulong r = 1; r <= 60; r++)
        {
            c.Submit(1, r);
            c.Run(m => m.From != 3 && m.To != 3);
        }
        int source = -1;
        for (int t = 0; t < 200 && source < 0; t++)
        {
            for (int i = 0; i < 4; i++) c.Step(i, Input.Tick());
            c.Run(m =>
            {
                if (m.From == 3 && m.Message[0] == (byte)MessageType.FetchState && source < 0) source = m.To;
                return source < 0;
            });
        }
        Assert.True(source >= 0, "replica 3 never asked for the snapshot");
        c.Network.Clear();
        return (c, source);
    }

    [Fact]
    public void StateTransfer_ForgedUnaskedOrMisplacedPieces_AreRejectedAndChangeNothing()
    {
        var (c, source) = LaggingReplicaThatAsked();
        var lagging = c.Replicas[3];
        int other = Enumerable.Range(0, 3).First(i => i != source);
        var real = c.Replicas[source];
        var realCert = new CheckpointCertificate(real.StableSequence, real.StableDigest, [0, 1, 2], [new byte[64], new byte[64], new byte[64]]);
        var outbox = new Outbox();
        void Send(int from, byte[] message)
        {
            outbox.Clear();
            lagging.Step(Input.Message(from, message), outbox);
        }

        // From a replica that was not asked: refused before any check, however plausible.
        Send(other, StateMessages.EncodeSnapshotPiece(realCert, default, [], 1040, 0, new byte[256]));
        Assert.Equal(1L, lagging.Rejected(RejectReason.Unsolicited));
        // From the one asked: a piece that does not start a snapshot when none is being gathered.
        Send(source, StateMessages.EncodeSnapshotPiece(realCert, default, [], 1040, 256, new byte[256]));
        Assert.Equal(1L, lagging.Rejected(RejectReason.OutsideWindow));
        // A piece that runs past the snapshot's end.
        Send(source, StateMessages.EncodeSnapshotPiece(realCert, default, [], 100, 0, new byte[256]));
        Assert.Equal(1L, lagging.Rejected(RejectReason.Malformed));
        // A first piece whose certificate's signatures are forged.
        Send(source, StateMessages.EncodeSnapshotPiece(realCert, default, [], 1040, 0, new byte[256]));
        Assert.Equal(1L, lagging.Rejected(RejectReason.BadProof));
        Assert.Equal(0UL, lagging.LastExecuted);
        Assert.Equal(0UL, c.Apps[3].Count);
    }
}
