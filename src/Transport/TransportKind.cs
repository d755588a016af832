namespace Chainspace.Transport;

/// <summary>Which implementation carries the frames. Both speak the same wire format and handshake.</summary>
public enum TransportKind : byte
{
    /// <summary>Raw <see cref="System.Net.Sockets.Socket"/> with SocketAsyncEventArgs awaitables and a Pipe per send queue.</summary>
    Socket = 0,
    /// <summary>DotNetty channels and event loops.</summary>
    DotNetty = 1,
}
