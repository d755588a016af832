namespace Chainspace.Transport;

/// <summary>
/// What the node plugs into a transport. Calls for one connection come from its receive loop, one at a
/// time and in order; different connections call concurrently. Keep them short (copy into the event
/// loop's queue): a slow handler stops that connection's reads, which is TCP backpressure on the sender.
/// An exception thrown here closes that connection and is logged; it never reaches other connections.
/// </summary>
public interface IFrameHandler
{
    /// <summary>The connection authenticated; <see cref="Connection.Peer"/> says who is on the other end.</summary>
    void OnConnected(Connection connection);

    /// <summary>A frame from an authenticated peer. <paramref name="frame"/> is valid only until this returns.</summary>
    void OnFrame(Connection connection, in InboundFrame frame);

    /// <summary>An authenticated connection closed; <paramref name="reason"/> is the logged cause.</summary>
    void OnDisconnected(Connection connection, string reason);
}
