using System.Buffers;
using Chainspace.Transport.Buffers;
using Chainspace.Transport.Framing;

namespace Chainspace.Transport.Tests;

/// <summary>The shared parser, fed a byte stream cut at every possible point, through a connection that records frames.</summary>
public sealed class FrameReceiverTests : TransportTestBase
{
    protected override TransportKind Kind => TransportKind.Socket;

    [Fact]
    public async Task Stream_SplitAtEveryByte_SameFramesInOrder()
    {
        // Drive the real parser through a real established connection: send a stream of frames whose sizes
        // straddle the 16 KiB receive buffer, then check order and content on the far side.
        var (server, handler, endPoint) = await StartServer();
        var client = Create(TestCluster.Replica(1), new RecordingHandler());
        var connection = await client.ConnectAsync(endPoint, TestCluster.Node(0));
        var sizes = new[] { 0, 1, 16 * 1024 - 7, 16 * 1024 - 6, 16 * 1024 - 5, 40_000, 3, 16 * 1024 * 2 };
        var payloads = sizes.Select((s, i) => TestCluster.Payload(s, seed: i + 100)).ToArray();
        for (int round = 0; round < 20; round++)
            foreach (var p in payloads) await Eventually.Send(connection, TestCluster.ReplicaType, p);
        await Eventually.True(() => handler.FrameCount == 20 * sizes.Length, "all frames delivered");
        int k = 0;
        foreach (var frame in handler.Frames) Assert.Equal(payloads[k++ % payloads.Length], frame.Payload);
        _ = server;
    }

    [Fact]
    public void Consume_ByteAtATime_DeliversEveryFrame()
    {
        var options = TestCluster.Options(Log);
        var writer = new ArrayBufferWriter<byte>();
        using var pool = BufferPool.For(options);
        var payloads = new[] { 0, 5, 16 * 1024, 20_000 }.Select((s, i) => TestCluster.Payload(s, seed: i)).ToArray();
        foreach (var p in payloads) FrameWriter.Write(writer, FrameHeader.HelloType, p, options, pool);
        var sink = new ParseOnlyConnection(pool, options);
        var stream = writer.WrittenSpan;
        for (int i = 0; i < stream.Length; i++) Assert.True(sink.Receiver.Consume(stream.Slice(i, 1)));
        Assert.Equal(payloads.Length, sink.Frames.Count);
        for (int i = 0; i < payloads.Length; i++) Assert.Equal(payloads[i], sink.Frames[i]);
        sink.Receiver.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }
}
