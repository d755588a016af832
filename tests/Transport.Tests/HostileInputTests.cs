using System.Buffers.Binary;
using System.Net;
using Chainspace.Transport.Framing;

namespace Chainspace.Transport.Tests;

/// <summary>
/// Hostile input against a running listener: each case must close the offending connection with a
/// logged reason, deliver nothing, leak nothing, and leave a healthy replica connection working.
/// </summary>
public abstract class HostileInputTests : TransportTestBase
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private sealed record Setup(ITransport Server, RecordingHandler ServerHandler, IPEndPoint EndPoint, Connection Healthy);

    private async Task<Setup> StartWithHealthyPeer(Func<TransportOptions, TransportOptions>? tweak = null)
    {
        var (server, handler, endPoint) = await StartServer(0, tweak);
        var peer = Create(TestCluster.Replica(1), new RecordingHandler(), tweak);
        var healthy = await peer.ConnectAsync(endPoint, TestCluster.Node(0));
        return new Setup(server, handler, endPoint, healthy);
    }

    /// <summary>The healthy connection still delivers, and nothing from the hostile one arrived.</summary>
    private static async Task AssertHealthyStillWorks(Setup setup)
    {
        int before = setup.ServerHandler.FrameCount;
        Assert.All(setup.ServerHandler.Frames, f => Assert.False(f.From.Peer.IsClient));
        await Eventually.Send(setup.Healthy, TestCluster.ReplicaType, new byte[] { 1, 2, 3 });
        await Eventually.True(() => setup.ServerHandler.FrameCount == before + 1, "healthy connection keeps working");
        Assert.True(setup.Healthy.IsEstablished);
    }

    private async Task AssertClosedWithReason(RawPeer raw, string reason)
    {
        Assert.True(await raw.WaitClosed(CloseTimeout), "server closed the hostile connection");
        await Eventually.True(() => Log.Contains(reason), $"logged reason '{reason}'");
    }

    [Fact]
    public async Task GarbageBytes_ConnectionClosedWithReason()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        raw.Send(TestCluster.Payload(4096, seed: 99));
        Assert.True(await raw.WaitClosed(CloseTimeout));
        await Eventually.True(() => Log.Contains("closed: unknown flags") || Log.Contains("closed: frame length") || Log.Contains("before handshake"), "garbage rejected with a reason");
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task LengthOverMaximum_ConnectionClosedWithReason()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteInt32LittleEndian(header, int.MaxValue);
        header[4] = FrameHeader.HelloType;
        raw.Send(header);
        await AssertClosedWithReason(raw, "over the maximum");
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task LongFrameBeforeAuthentication_ConnectionClosedWithReason()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteInt32LittleEndian(header, 100_000);
        header[4] = FrameHeader.HelloType;
        raw.Send(header);
        await AssertClosedWithReason(raw, "over the maximum 256 before authentication");
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task LengthOverMaximumAfterHandshake_ConnectionClosedWithReason()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        raw.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteInt32LittleEndian(header, 256 * 1024 + 1);
        header[4] = TestCluster.ClientType;
        raw.Send(header);
        await AssertClosedWithReason(raw, "frame length 262145 over the maximum 262144");
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task TruncatedFrameThenClose_LoggedAndNothingDelivered()
    {
        var setup = await StartWithHealthyPeer();
        using (var raw = await RawPeer.Connect(setup.EndPoint))
        {
            raw.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
            var frame = new byte[FrameHeader.Size + 100];
            new FrameHeader(1000, TestCluster.ClientType, FrameFlags.None).Write(frame);
            raw.Send(frame);
            await Eventually.True(() => setup.ServerHandler.Connected.Any(c => c.Peer.IsClient), "client handshake accepted");
            raw.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.True(await raw.WaitClosed(CloseTimeout));
        }
        await Eventually.True(() => Log.Contains("in the middle of a frame (106 bytes pending)"), "truncation logged");
        Assert.DoesNotContain(setup.ServerHandler.Frames, f => f.From.Peer.IsClient);
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task UnknownFrameType_ConnectionClosedWithReason()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        raw.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        raw.SendFrame(0x77, new byte[16]);
        await AssertClosedWithReason(raw, "frame type 0x77 not allowed from a client");
        using var control = await RawPeer.Connect(setup.EndPoint);
        control.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        control.SendFrame(0xF7, new byte[16]);
        await AssertClosedWithReason(control, "frame type 0xF7 not allowed from a client");
        using var flags = await RawPeer.Connect(setup.EndPoint);
        flags.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        flags.SendFrame(TestCluster.ClientType, new byte[16], (FrameFlags)0x80);
        await AssertClosedWithReason(flags, "unknown flags 0x80");
        Assert.DoesNotContain(setup.ServerHandler.Frames, f => f.From.Peer.IsClient);
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task FrameBeforeHandshake_ConnectionClosedAndNotDelivered()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        raw.SendFrame(TestCluster.ReplicaType, new byte[16]);
        await AssertClosedWithReason(raw, "frame type 0x20 before handshake");
        using var wrong = await RawPeer.Connect(setup.EndPoint);
        wrong.SendClientHello(new Chainspace.Core.Hash256(TestCluster.Payload(32, seed: 5)), TestCluster.Config.Epoch);
        wrong.SendFrame(TestCluster.ClientType, new byte[16]);
        await AssertClosedWithReason(wrong, "wrong cluster");
        Assert.DoesNotContain(setup.ServerHandler.Frames, f => f.From.Peer.IsClient);
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task CompressedFrameExpandingPastMaximum_Rejected()
    {
        var setup = await StartWithHealthyPeer();
        using var raw = await RawPeer.Connect(setup.EndPoint);
        raw.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        var payload = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(payload, 256 * 1024 + 1);
        raw.SendFrame(TestCluster.ClientType, payload, FrameFlags.Compressed);
        await AssertClosedWithReason(raw, "expands to 262145 bytes, over the maximum");
        using var lying = await RawPeer.Connect(setup.EndPoint);
        lying.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
        BinaryPrimitives.WriteInt32LittleEndian(payload, 1000);
        lying.SendFrame(TestCluster.ClientType, payload, FrameFlags.Compressed);
        await AssertClosedWithReason(lying, "does not decode to its declared 1000 bytes");
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task HandshakeNeverCompletes_ClosedAfterTimeLimit()
    {
        var setup = await StartWithHealthyPeer(o => o with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        using var silent = await RawPeer.Connect(setup.EndPoint);
        using var partial = await RawPeer.Connect(setup.EndPoint);
        partial.Send(new byte[3]);
        await AssertClosedWithReason(silent, "handshake not completed within 300 ms");
        Assert.True(await partial.WaitClosed(CloseTimeout));
        await AssertHealthyStillWorks(setup);
    }

    [Fact]
    public async Task ThousandsOfIdleConnections_LimitedAndTimedOut_OthersKeepWorking()
    {
        const int Limit = 100, Attempts = 2000;
        var setup = await StartWithHealthyPeer(o => o with { InboundConnectionsMax = Limit, HandshakeTimeout = TimeSpan.FromSeconds(1) });
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var idle = new List<RawPeer>();
        int connectFailures = 0;
        try
        {
            for (int i = 0; i < Attempts; i++)
            {
                try
                {
                    idle.Add(await RawPeer.Connect(setup.EndPoint));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // The listener's reset of an excess connection can beat the connect's own completion.
                    connectFailures++;
                }
                Assert.True(setup.Server.ConnectionCount <= Limit, "never more connections than the limit");
            }
            // Every idle connection ends one of two logged ways: refused at the limit, or closed by the handshake time limit.
            int Refused() => Log.Count("inbound connection limit 100 reached");
            int TimedOut() => Log.Count("handshake not completed within");
            await Eventually.True(() => Refused() + TimedOut() == Attempts,
                $"every idle connection closed with a logged reason (refused {Refused()}, timed out {TimedOut()}, connect failures {connectFailures})");
            // How many the limit refuses (rather than the handshake timer closing) depends on how fast the
            // flood runs against the 1 s timer, so only that the limit acted is asserted, not a share.
            Assert.True(Refused() > 0, $"the limit refused part of the flood ({Refused()})");
            await AssertHealthyStillWorks(setup);
            // The idle ones that were admitted are closed by the handshake time limit, freeing their slots.
            await Eventually.True(() => setup.Server.ConnectionCount == 1, "idle connections timed out, healthy one remains");
            Assert.True(setup.Server.Pool.Created < 4 * Limit, $"pool stayed bounded (created {setup.Server.Pool.Created})");
            long memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
            Assert.True(memoryAfter - memoryBefore < 64L << 20, $"memory grew by {(memoryAfter - memoryBefore) >> 20} MiB");
            using var late = await RawPeer.Connect(setup.EndPoint);
            late.SendClientHello(TestCluster.Config.ClusterId, TestCluster.Config.Epoch);
            await Eventually.True(() => setup.ServerHandler.Connected.Any(c => c.Peer.IsClient), "a new connection is admitted once slots are free");
            await AssertHealthyStillWorks(setup);
        }
        finally
        {
            foreach (var r in idle) r.Dispose();
        }
    }
}
