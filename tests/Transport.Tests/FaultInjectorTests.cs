using System.Buffers.Binary;
using System.Collections.Concurrent;
using Chainspace.Transport.Buffers;
using Chainspace.Transport.Faults;

namespace Chainspace.Transport.Tests;

public sealed class FaultInjectorTests : TransportTestBase
{
    protected override TransportKind Kind => TransportKind.Socket;

    private sealed class CollectingSink : IFrameSink
    {
        public ConcurrentQueue<int> Sequence { get; } = new();

        public SendStatus TrySend(byte frameType, ReadOnlySpan<byte> payload)
        {
            Sequence.Enqueue(BinaryPrimitives.ReadInt32LittleEndian(payload));
            return SendStatus.Queued;
        }
    }

    private static BufferPool NewPool() => new(1 << 16, 64, 0, 0);

    private static byte[] Numbered(int i)
    {
        var payload = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(payload, i);
        return payload;
    }

    private static async Task<int[]> Run(FaultOptions options, int frames, BufferPool pool)
    {
        var sink = new CollectingSink();
        await using (var faults = new FaultInjector(options, pool))
        {
            var faulty = faults.Wrap("a", "b", sink);
            for (int i = 0; i < frames; i++) Assert.Equal(SendStatus.Queued, faulty.TrySend(1, Numbered(i)));
            await Eventually.True(() => sink.Sequence.Count == frames - faults.Counters.Dropped + faults.Counters.Duplicated, "every surviving frame delivered");
        }
        return sink.Sequence.ToArray();
    }

    [Fact]
    public async Task Drop_AtRate_DropsAboutThatShareAndIsSeeded()
    {
        using var pool = NewPool();
        var options = new FaultOptions { Seed = 7, DropRate = 0.3 };
        var first = await Run(options, 2000, pool);
        var second = await Run(options, 2000, pool);
        Assert.InRange(first.Length, 1200, 1600);
        Assert.Equal(first, second);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Duplicate_AtRate_DeliversSomeFramesTwiceInOrder()
    {
        using var pool = NewPool();
        var delivered = await Run(new FaultOptions { Seed = 3, DuplicateRate = 0.2 }, 1000, pool);
        Assert.InRange(delivered.Length, 1100, 1300);
        Assert.Equal(Enumerable.Range(0, 1000), delivered.Distinct());
    }

    [Fact]
    public async Task DelayAndReorder_DeliverEverythingOutOfOrder_NothingLeaked()
    {
        using var pool = NewPool();
        var delivered = await Run(new FaultOptions { Seed = 5, DelayRate = 0.1, ReorderRate = 0.1, DelayMax = TimeSpan.FromMilliseconds(20) }, 1000, pool);
        Assert.Equal(Enumerable.Range(0, 1000), delivered.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), delivered);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Partition_BlocksBothDirectionsUntilHealed()
    {
        using var pool = NewPool();
        var ab = new CollectingSink();
        var ba = new CollectingSink();
        var ac = new CollectingSink();
        await using var faults = new FaultInjector(new FaultOptions(), pool);
        var toB = faults.Wrap("a", "b", ab);
        var toA = faults.Wrap("b", "a", ba);
        var toC = faults.Wrap("a", "c", ac);
        faults.Partition("b", "a");
        toB.TrySend(1, Numbered(1));
        toA.TrySend(1, Numbered(2));
        toC.TrySend(1, Numbered(3));
        Assert.Empty(ab.Sequence);
        Assert.Empty(ba.Sequence);
        Assert.Single(ac.Sequence);
        Assert.Equal(2, faults.Counters.Partitioned);
        faults.Heal("a", "b");
        toB.TrySend(1, Numbered(4));
        Assert.Equal(new[] { 4 }, ab.Sequence);
    }

    [Fact]
    public async Task OverRealTransport_DropsAndPartitions_ReceiverSeesOnlySurvivors()
    {
        var (server, serverHandler, endPoint) = await StartServer();
        var client = Create(TestCluster.Replica(1), new RecordingHandler());
        var connection = await client.ConnectAsync(endPoint, TestCluster.Node(0));
        await using var faults = new FaultInjector(new FaultOptions { Seed = 11, DropRate = 0.25, ReorderRate = 0.05 }, client.Pool);
        var faulty = faults.Wrap("s0r1", "s0r0", connection);
        for (int i = 0; i < 1000; i++) Assert.Equal(SendStatus.Queued, faulty.TrySend(TestCluster.ReplicaType, Numbered(i)));
        long expected = 1000 - faults.Counters.Dropped;
        await Eventually.True(() => serverHandler.FrameCount == expected, "survivors delivered");
        faults.Partition("s0r0", "s0r1");
        faulty.TrySend(TestCluster.ReplicaType, Numbered(5000));
        faults.HealAll();
        faulty.TrySend(TestCluster.ReplicaType, Numbered(6000));
        await Eventually.True(() => serverHandler.FrameCount == expected + 1, "frame after heal delivered");
        Assert.DoesNotContain(serverHandler.Frames, f => BinaryPrimitives.ReadInt32LittleEndian(f.Payload) == 5000);
        Assert.InRange(faults.Counters.Dropped, 150, 350);
        _ = server;
    }
}
