using Chainspace.Transport;

namespace Chainspace.Bench.Transport;

/// <summary>Receiver side of the benchmark: touches the payload's first byte and counts frames, nothing else.</summary>
public sealed class CountingHandler : IFrameHandler
{
    private long _received;
    private long _checksum;

    public long Received => Interlocked.Read(ref _received);
    public long Checksum => Interlocked.Read(ref _checksum);

    public void OnConnected(Connection connection) { }

    public void OnFrame(Connection connection, in InboundFrame frame)
    {
        if (!frame.Payload.IsEmpty) _checksum += frame.Payload[0];
        Interlocked.Increment(ref _received);
    }

    public void OnDisconnected(Connection connection, string reason) { }
}
