using System.Net;
using System.Net.Sockets;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Buffers;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// The default transport: raw sockets, SocketAsyncEventArgs awaitables, a Pipe per send queue, and a
/// few <see cref="IoQueue"/>s (one per core, at most 16) that every connection's continuations run on.
/// </summary>
public sealed class SocketTransport : ITransport
{
    private const int IoQueuesMax = 16;
    private readonly TransportCore _core;
    private readonly IoQueue[] _queues;
    private readonly List<SocketListener> _listeners = new();
    private int _nextQueue;
    private int _disposed;

    public SocketTransport(ClusterConfig cluster, LocalIdentity identity, IFrameHandler handler, TransportOptions? options = null)
    {
        _core = new TransportCore(cluster, identity, handler, options ?? new TransportOptions());
        _queues = new IoQueue[Math.Min(Environment.ProcessorCount, IoQueuesMax)];
        for (int i = 0; i < _queues.Length; i++) _queues[i] = new IoQueue();
    }

    public TransportKind Kind => TransportKind.Socket;
    public LocalIdentity Identity => _core.Identity;
    public TransportOptions Options => _core.Options;
    public BufferPool Pool => _core.Pool;
    public int ConnectionCount => _core.ConnectionCount;

    internal IoQueue NextQueue() => _queues[(int)((uint)Interlocked.Increment(ref _nextQueue) % (uint)_queues.Length)];

    public ValueTask<IConnectionListener> ListenAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_core.Identity.IsClient) throw new InvalidOperationException("a client identity cannot accept connections");
        var listener = new SocketListener(this, _core, endPoint);
        lock (_listeners) _listeners.Add(listener);
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    public async ValueTask<Connection> ConnectAsync(IPEndPoint endPoint, NodeId? expectedPeer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_core.Options.ConnectTimeout);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new SocketConnection(_core, socket, initiator: true, expectedPeer, NextQueue());
        connection.Start();
        await ConnectionSetup.AwaitEstablishedAsync(connection, timeout.Token).ConfigureAwait(false);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        SocketListener[] listeners;
        lock (_listeners) listeners = _listeners.ToArray();
        foreach (var l in listeners) await l.DisposeAsync().ConfigureAwait(false);
        await _core.CloseAllAsync("transport disposed").ConfigureAwait(false);
        _core.Pool.Dispose();
    }
}
