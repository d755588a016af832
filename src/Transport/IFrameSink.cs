namespace Chainspace.Transport;

/// <summary>Something frames can be sent to: a connection, a reconnecting peer link, or a fault-injecting wrapper.</summary>
public interface IFrameSink
{
    /// <summary>
    /// Copies the frame into the peer's bounded send queue and returns at once; never blocks, never grows
    /// the queue past its bound. The caller keeps ownership of <paramref name="payload"/>.
    /// </summary>
    SendStatus TrySend(byte frameType, ReadOnlySpan<byte> payload);
}
