using Chainspace.Transport.Buffers;
using Chainspace.Transport.Framing;

namespace Chainspace.Transport.Tests;

/// <summary>Feeds a <see cref="FrameReceiver"/> and records what it parses, without sockets or a handshake.</summary>
internal sealed class ParseOnlyConnection : IFrameConsumer
{
    public ParseOnlyConnection(BufferPool pool, TransportOptions options) => Receiver = new FrameReceiver(this, pool, options);

    public FrameReceiver Receiver { get; }
    public List<byte[]> Frames { get; } = new();
    public string? Rejected { get; private set; }
    public int PayloadBytesLimit { get; set; } = int.MaxValue;

    public bool OnWireFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Frames.Add(payload.ToArray());
        return true;
    }

    public bool Reject(string reason)
    {
        Rejected = reason;
        return false;
    }
}
