using System.Collections.Concurrent;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Buffers;

namespace Chainspace.Transport;

/// <summary>
/// What both transports share: configuration, identity, the handler, the buffer pool, the registry of
/// live connections (so dispose can close them all and wait) and the inbound-connection limit.
/// </summary>
internal sealed class TransportCore
{
    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private long _nextConnectionId;
    private int _inbound;
    private int _closing;

    public TransportCore(ClusterConfig cluster, LocalIdentity identity, IFrameHandler handler, TransportOptions options)
    {
        Cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));
        Identity = identity ?? throw new ArgumentNullException(nameof(identity));
        Handler = handler ?? throw new ArgumentNullException(nameof(handler));
        Options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        Pool = BufferPool.For(Options);
    }

    public ClusterConfig Cluster { get; }
    public LocalIdentity Identity { get; }
    public IFrameHandler Handler { get; }
    public TransportOptions Options { get; }
    public BufferPool Pool { get; }
    public int ConnectionCount => _connections.Count;
    public int InboundCount => Volatile.Read(ref _inbound);

    public long NextConnectionId() => Interlocked.Increment(ref _nextConnectionId);

    public void Log(TransportLogLevel level, string message) => Options.Logger?.Invoke(level, message);

    /// <summary>Claims an inbound slot; false when the limit is reached (the caller closes the socket).</summary>
    public bool TryAdmitInbound()
    {
        if (Interlocked.Increment(ref _inbound) <= Options.InboundConnectionsMax) return true;
        Interlocked.Decrement(ref _inbound);
        return false;
    }

    public void ReleaseInbound() => Interlocked.Decrement(ref _inbound);

    /// <summary>Tracks a live connection; one that starts while the transport is closing is closed at once.</summary>
    public void Register(Connection connection)
    {
        _connections[connection.Id] = connection;
        if (Volatile.Read(ref _closing) != 0) connection.Abort("transport disposed");
    }

    public void Unregister(Connection connection)
    {
        if (!_connections.TryRemove(connection.Id, out _)) return;
        if (!connection.IsInitiator) Interlocked.Decrement(ref _inbound);
    }

    /// <summary>Closes every live connection and waits until each has returned its buffers.</summary>
    public async Task CloseAllAsync(string reason)
    {
        Volatile.Write(ref _closing, 1);
        // Repeat: a connect or accept racing with dispose may register after the first snapshot.
        while (!_connections.IsEmpty)
        {
            var live = _connections.Values.ToArray();
            foreach (var c in live) c.Abort(reason);
            foreach (var c in live) await c.Completion.ConfigureAwait(false);
        }
    }

    public IEnumerable<Connection> Connections => _connections.Values;
}
