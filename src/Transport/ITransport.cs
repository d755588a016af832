using System.Net;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Buffers;

namespace Chainspace.Transport;

/// <summary>
/// The node's one way to talk to peers and clients, implemented by the socket and the DotNetty transport.
/// Received frames and connection events go to the <see cref="IFrameHandler"/> given at construction.
/// Disposing closes every listener and connection and waits until every pooled buffer is back
/// (<see cref="BufferPool.Outstanding"/> is then zero).
/// </summary>
public interface ITransport : IAsyncDisposable
{
    TransportKind Kind { get; }
    LocalIdentity Identity { get; }
    TransportOptions Options { get; }

    /// <summary>The pool every buffer of this transport comes from; count leaks with <see cref="BufferPool.Outstanding"/>.</summary>
    BufferPool Pool { get; }

    /// <summary>Connections currently open, authenticated or still in the handshake.</summary>
    int ConnectionCount { get; }

    /// <summary>Accepts peers and clients on <paramref name="endPoint"/> (port 0 picks a free port). Replica identities only.</summary>
    ValueTask<IConnectionListener> ListenAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// Connects and completes the handshake; returns an authenticated connection or throws (refused,
    /// timed out, wrong cluster, bad proof, or a replica other than <paramref name="expectedPeer"/>).
    /// </summary>
    ValueTask<Connection> ConnectAsync(IPEndPoint endPoint, NodeId? expectedPeer, CancellationToken cancellationToken = default);
}

/// <summary>A bound listening endpoint. Disposing stops accepting; connections already accepted stay open.</summary>
public interface IConnectionListener : IAsyncDisposable
{
    IPEndPoint EndPoint { get; }
}
