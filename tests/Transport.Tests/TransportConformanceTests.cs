using System.Buffers.Binary;
using System.Net;
using Chainspace.Core.Cluster;

namespace Chainspace.Transport.Tests;

/// <summary>
/// The one conformance suite, written once and derived per transport (STYLE.md §4). Every test ends with
/// the transports disposed and every pooled buffer counted back (see <see cref="TransportTestBase"/>).
/// </summary>
public abstract class TransportConformanceTests : TransportTestBase
{
    private const byte T = TestCluster.ReplicaType;

    private async Task<(ITransport Client, RecordingHandler ClientHandler, Connection Connection, ITransport Server, RecordingHandler ServerHandler)> ConnectPair(
        Func<TransportOptions, TransportOptions>? tweak = null)
    {
        var (server, serverHandler, endPoint) = await StartServer(0, tweak);
        var clientHandler = new RecordingHandler();
        var client = Create(TestCluster.Replica(1), clientHandler, tweak);
        var connection = await client.ConnectAsync(endPoint, TestCluster.Node(0));
        await Eventually.True(() => serverHandler.Connected.Count == 1, "server sees the connection");
        return (client, clientHandler, connection, server, serverHandler);
    }

    private static byte[] Numbered(int sequence, int length)
    {
        var payload = new byte[Math.Max(length, 4)];
        BinaryPrimitives.WriteInt32LittleEndian(payload, sequence);
        return payload;
    }

    [Fact]
    public async Task Handshake_ReplicaToReplica_BothSidesKnowEachOther()
    {
        var (_, clientHandler, connection, _, serverHandler) = await ConnectPair();
        Assert.True(connection.IsEstablished);
        Assert.Equal(PeerIdentity.Replica(TestCluster.Node(0)), connection.Peer);
        Assert.True(serverHandler.Connected.TryPeek(out var accepted));
        Assert.Equal(PeerIdentity.Replica(TestCluster.Node(1)), accepted!.Peer);
        Assert.Single(clientHandler.Connected);
    }

    [Fact]
    public async Task RoundTrip_ManyFramesBothDirections_DeliveredInOrder()
    {
        const int Count = 20_000;
        var (_, clientHandler, connection, _, serverHandler) = await ConnectPair();
        Assert.True(serverHandler.Connected.TryPeek(out var accepted));
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < Count; i++) await Eventually.Send(connection, T, Numbered(i, 4 + i % 300));
        });
        for (int i = 0; i < Count; i++) await Eventually.Send(accepted!, T, Numbered(i, 4 + i % 200));
        await sending;
        await Eventually.True(() => serverHandler.FrameCount == Count && clientHandler.FrameCount == Count, "all frames delivered");
        AssertSequence(serverHandler, Count);
        AssertSequence(clientHandler, Count);
    }

    private static void AssertSequence(RecordingHandler handler, int count)
    {
        int expected = 0;
        foreach (var frame in handler.Frames)
        {
            Assert.Equal(T, frame.Type);
            Assert.Equal(expected, BinaryPrimitives.ReadInt32LittleEndian(frame.Payload));
            expected++;
        }
        Assert.Equal(count, expected);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(16 * 1024 - 6)]
    [InlineData(16 * 1024)]
    [InlineData(100_000)]
    [InlineData(256 * 1024)]
    public async Task Frame_OfSize_ArrivesIntact(int size)
    {
        var (_, _, connection, _, serverHandler) = await ConnectPair();
        var payload = TestCluster.Payload(size, seed: size);
        await Eventually.Send(connection, T, payload);
        await Eventually.Send(connection, T, Numbered(7, 10));
        await Eventually.True(() => serverHandler.FrameCount == 2, "frames delivered");
        var frames = serverHandler.Frames.ToArray();
        Assert.Equal(payload, frames[0].Payload);
        Assert.False(frames[0].WasCompressed);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(frames[1].Payload));
    }

    [Fact]
    public async Task CompressibleFrames_AreCompressedAndRestored()
    {
        var (_, _, connection, _, serverHandler) = await ConnectPair();
        var sizes = new[] { 4096, 50_000, 256 * 1024 };
        foreach (var size in sizes) await Eventually.Send(connection, T, TestCluster.Payload(size, seed: size, compressible: true));
        await Eventually.True(() => serverHandler.FrameCount == sizes.Length, "compressed frames delivered");
        var frames = serverHandler.Frames.ToArray();
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.True(frames[i].WasCompressed);
            Assert.Equal(TestCluster.Payload(sizes[i], seed: sizes[i], compressible: true), frames[i].Payload);
        }
    }

    [Fact]
    public async Task TrySend_OverMaximum_ReportsTooLarge()
    {
        var (_, _, connection, _, _) = await ConnectPair();
        Assert.Equal(SendStatus.TooLarge, connection.TrySend(T, new byte[256 * 1024 + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => connection.TrySend(0xF0, new byte[1]));
    }

    [Fact]
    public async Task SlowReceiver_SendQueueFills_ReportsBackpressureThenDrains()
    {
        var (_, _, connection, _, serverHandler) = await ConnectPair(o => o with { SendQueueBytesMax = 300 * 1024 });
        using var gate = new ManualResetEventSlim(false);
        serverHandler.Gate = gate;
        var payload = TestCluster.Payload(8 * 1024, seed: 1);
        int queued = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        // The receiver blocks, TCP buffers fill, then our bounded queue must refuse rather than grow.
        while (true)
        {
            var status = connection.TrySend(T, Numbered(queued, payload.Length));
            if (status == SendStatus.QueueFull) break;
            Assert.Equal(SendStatus.Queued, status);
            queued++;
            Assert.True(connection.QueuedBytes <= 300 * 1024, "queue stays within its bound");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("queue never filled");
            if (queued % 64 == 0) await Task.Yield();
        }
        Assert.True(connection.QueuedBytes <= 300 * 1024);
        gate.Set();
        await Eventually.True(() => serverHandler.FrameCount == queued, $"all {queued} queued frames delivered");
        AssertSequence(serverHandler, queued);
        await Eventually.True(() => connection.TrySend(T, payload) == SendStatus.Queued, "queue accepts again");
    }

    [Fact]
    public async Task DeferredSend_MixedWithImmediateSends_DeliveredInOrderAfterFlush()
    {
        const int Rounds = 2_000;
        var (_, _, connection, _, serverHandler) = await ConnectPair();
        int sequence = 0;
        for (int round = 0; round < Rounds; round++)
        {
            // A round as an event loop makes it: deferred frames, now and then an immediate one among them, one flush.
            int frames = 1 + round % 7;
            for (int i = 0; i < frames; i++)
            {
                var payload = Numbered(sequence++, 8 + (round * 31 + i) % 900);
                var status = round % 5 == 0 && i == frames / 2 ? connection.TrySend(T, payload) : connection.TrySendDeferred(T, payload);
                Assert.Equal(SendStatus.Queued, status);
            }
            connection.FlushDeferred();
            if (round % 100 == 0) await Eventually.True(() => serverHandler.FrameCount == sequence, "round delivered");
        }
        await Eventually.True(() => serverHandler.FrameCount == sequence, "all deferred frames delivered");
        AssertSequence(serverHandler, sequence);
    }

    [Fact]
    public async Task DeferredSend_MoreThanTheSocketTakes_RestGoesThroughTheSendLoop()
    {
        // Rounds that each fit one segment, and together far more than the socket buffers of a blocked receiver
        // hold: a flush sends what the socket takes and hands the rest to the send loop, without blocking and
        // without reordering; later rounds queue behind it.
        var (_, _, connection, _, serverHandler) = await ConnectPair(o => o with { SendQueueBytesMax = 64 << 20 });
        using var gate = new ManualResetEventSlim(false);
        serverHandler.Gate = gate;
        int sequence = 0;
        for (int round = 0; round < 400; round++)
        {
            for (int i = 0; i < 40; i++) Assert.Equal(SendStatus.Queued, connection.TrySendDeferred(T, Numbered(sequence++, 1000 + i * 5)));
            connection.FlushDeferred();
        }
        gate.Set();
        await Eventually.True(() => serverHandler.FrameCount == sequence, $"all {sequence} frames delivered");
        AssertSequence(serverHandler, sequence);
    }

    [Fact]
    public async Task DeferredSend_OnClosedConnection_ReportsNotConnectedAndFlushIsHarmless()
    {
        var (_, _, connection, _, _) = await ConnectPair();
        Assert.Equal(SendStatus.Queued, connection.TrySendDeferred(T, Numbered(0, 16)));
        connection.Abort("test closes it");
        connection.FlushDeferred();
        Assert.Equal(SendStatus.NotConnected, connection.TrySendDeferred(T, Numbered(1, 16)));
        connection.FlushDeferred();
        await connection.Completion;
    }

    [Fact]
    public async Task ManyPeers_FullMeshOverLinks_AllFramesDelivered()
    {
        const int Nodes = 4, PerPeer = 200;
        var handlers = new RecordingHandler[Nodes];
        var transports = new ITransport[Nodes];
        var endPoints = new IPEndPoint[Nodes];
        for (int i = 0; i < Nodes; i++)
        {
            handlers[i] = new RecordingHandler();
            transports[i] = Create(TestCluster.Replica(i), handlers[i]);
            endPoints[i] = (await transports[i].ListenAsync(TestCluster.AnyPort)).EndPoint;
        }
        var links = new List<PeerLink>();
        for (int i = 0; i < Nodes; i++)
            for (int j = 0; j < Nodes; j++)
                if (i != j) links.Add(new PeerLink(transports[i], TestCluster.Node(j), endPoints[j]));
        try
        {
            await Eventually.True(() => links.All(l => l.IsConnected), "all links connected");
            await Task.WhenAll(links.Select(l => Task.Run(async () =>
            {
                for (int k = 0; k < PerPeer; k++) await Eventually.Send(l, T, Numbered(k, 64));
            })));
            await Eventually.True(() => handlers.All(h => h.FrameCount == (Nodes - 1) * PerPeer), "every node got every peer's frames");
            foreach (var h in handlers)
                foreach (var group in h.Frames.GroupBy(f => f.From.Peer))
                    Assert.Equal(Enumerable.Range(0, PerPeer), group.Select(f => BinaryPrimitives.ReadInt32LittleEndian(f.Payload)));
        }
        finally
        {
            foreach (var l in links) await l.DisposeAsync();
        }
    }

    [Fact]
    public async Task ManyClients_EachSendsClientFrames_AllDelivered()
    {
        const int Clients = 64, PerClient = 50;
        var (_, serverHandler, endPoint) = await StartServer();
        var clientTransport = Create(LocalIdentity.Client(), new RecordingHandler());
        var connections = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => clientTransport.ConnectAsync(endPoint, TestCluster.Node(0)).AsTask()));
        await Task.WhenAll(connections.Select(c => Task.Run(async () =>
        {
            for (int k = 0; k < PerClient; k++) await Eventually.Send(c, TestCluster.ClientType, Numbered(k, 32));
        })));
        await Eventually.True(() => serverHandler.FrameCount == Clients * PerClient, "all client frames delivered");
        Assert.All(serverHandler.Frames, f => Assert.True(f.From.Peer.IsClient));
        foreach (var group in serverHandler.Frames.GroupBy(f => f.From.Id))
            Assert.Equal(Enumerable.Range(0, PerClient), group.Select(f => BinaryPrimitives.ReadInt32LittleEndian(f.Payload)));
    }

    [Fact]
    public async Task PeerRestart_LinkReconnectsAndDelivers()
    {
        var (server, _, endPoint) = await StartServer();
        var link = new PeerLink(Create(TestCluster.Replica(1), new RecordingHandler()), TestCluster.Node(0), endPoint);
        try
        {
            await Eventually.True(() => link.IsConnected, "link connected");
            await Stop(server);
            await Eventually.True(() => !link.IsConnected, "link notices the peer is gone");
            Assert.Equal(SendStatus.NotConnected, link.TrySend(T, Numbered(0, 8)));

            var restartedHandler = new RecordingHandler();
            var restarted = Create(TestCluster.Replica(0), restartedHandler);
            await restarted.ListenAsync(endPoint);
            await Eventually.True(() => link.IsConnected, "link reconnects to the restarted peer");
            Assert.True(link.Connects >= 2);
            for (int i = 0; i < 100; i++) await Eventually.Send(link, T, Numbered(i, 16));
            await Eventually.True(() => restartedHandler.FrameCount == 100, "frames reach the restarted peer");
            AssertSequence(restartedHandler, 100);
        }
        finally
        {
            await link.DisposeAsync();
        }
    }

    [Fact]
    public async Task RemoteAbort_LocalSideSeesDisconnect()
    {
        var (_, clientHandler, connection, _, serverHandler) = await ConnectPair();
        Assert.True(serverHandler.Connected.TryPeek(out var accepted));
        accepted!.Abort("test abort");
        await Eventually.True(() => connection.IsClosed && clientHandler.Disconnected.Count == 1, "initiator sees the close");
        Assert.True(connection.Closed.IsCancellationRequested);
        Assert.Equal(SendStatus.NotConnected, connection.TrySend(T, new byte[1]));
        await connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(serverHandler.Disconnected);
    }

    [Fact]
    public async Task Dispose_AfterTraffic_EveryBufferReturned()
    {
        var (client, _, connection, server, serverHandler) = await ConnectPair();
        for (int i = 0; i < 500; i++) await Eventually.Send(connection, T, TestCluster.Payload(i * 97 % 40_000, seed: i, compressible: i % 2 == 0));
        await Eventually.True(() => serverHandler.FrameCount == 500, "frames delivered");
        // Leave some frames in flight: disposal must still return everything.
        for (int i = 0; i < 50; i++) connection.TrySend(T, TestCluster.Payload(30_000, seed: i));
        await Stop(client);
        await Stop(server);
    }

    [Fact]
    public async Task Handshake_WrongCluster_Rejected()
    {
        var (_, serverHandler, endPoint) = await StartServer();
        var other = ClusterConfig.CreateLocal(1, 4, basePort: 31000, seed: "another-cluster");
        var stranger = Create(LocalIdentity.Replica(other.Config, TestCluster.Node(1), other.Keys[TestCluster.Node(1)]), new RecordingHandler(), cluster: other.Config);
        await Assert.ThrowsAnyAsync<Exception>(async () => await stranger.ConnectAsync(endPoint, TestCluster.Node(0)));
        await Eventually.True(() => Log.Contains("wrong cluster"), "wrong cluster logged");
        Assert.Empty(serverHandler.Connected);
        Assert.Equal(0, serverHandler.FrameCount);
    }

    [Fact]
    public async Task Handshake_ImpostorKey_Rejected()
    {
        var (_, serverHandler, endPoint) = await StartServer();
        // Same cluster id and epoch, but replica 1's key is not the configured one.
        var forged = ClusterConfig.CreateLocal(1, 4, basePort: 30000, seed: "forger");
        var forgedConfig = new ClusterConfig(TestCluster.Config.ClusterId, TestCluster.Config.Epoch, new[]
        {
            new ShardConfig(0, TestCluster.Config.Shard(0).Replicas.Select((r, i) => i == 1 ? forged.Config.Replica(r.Id) : r).ToList()),
        });
        var impostor = Create(LocalIdentity.Replica(forgedConfig, TestCluster.Node(1), forged.Keys[TestCluster.Node(1)]), new RecordingHandler(), cluster: forgedConfig);
        var connecting = impostor.ConnectAsync(endPoint, TestCluster.Node(0)).AsTask();
        // The impostor accepts the server's proof, sends its own and may see itself as connected; the server must not.
        try { var c = await connecting; c.TrySend(T, new byte[8]); } catch (Exception) { }
        await Eventually.True(() => Log.Contains("does not verify"), "bad proof logged");
        Assert.Empty(serverHandler.Connected);
        Assert.Equal(0, serverHandler.FrameCount);
    }

    [Fact]
    public async Task Handshake_UnexpectedPeer_Rejected()
    {
        var (_, _, endPoint) = await StartServer(replica: 2);
        var client = Create(TestCluster.Replica(1), new RecordingHandler());
        await Assert.ThrowsAnyAsync<Exception>(async () => await client.ConnectAsync(endPoint, TestCluster.Node(0)));
        Assert.True(Log.Contains("expected replica s0r0, peer claims s0r2"), Log.ToString());
    }

    [Fact]
    public async Task Client_SendsReplicaFrameType_ConnectionClosed()
    {
        var (_, serverHandler, endPoint) = await StartServer();
        var client = Create(LocalIdentity.Client(), new RecordingHandler());
        var connection = await client.ConnectAsync(endPoint, TestCluster.Node(0));
        Assert.Equal(SendStatus.Queued, connection.TrySend(TestCluster.ClientType, Numbered(1, 8)));
        Assert.Equal(SendStatus.Queued, connection.TrySend(T, Numbered(2, 8)));
        await Eventually.True(() => connection.IsClosed, "server closes the client connection");
        Assert.Single(serverHandler.Frames);
        Assert.Equal(TestCluster.ClientType, serverHandler.Frames.Single().Type);
        Assert.True(Log.Contains("not allowed from a client"), Log.ToString());
    }

    [Fact]
    public async Task Client_CannotListen()
    {
        var client = Create(LocalIdentity.Client(), new RecordingHandler());
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.ListenAsync(TestCluster.AnyPort));
    }
}
