using System.Net;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Buffers;
using DotNetty.Transport.Bootstrapping;
using DotNetty.Transport.Channels;
using DotNetty.Transport.Channels.Sockets;

namespace Chainspace.Transport.DotNetty;

/// <summary>
/// The alternative transport on DotNetty channels and event loops, with the same framing, handshake and
/// bounds as <see cref="Sockets.SocketTransport"/>, so the two can be measured side by side.
/// </summary>
public sealed class DotNettyTransport : ITransport
{
    private const int Backlog = 1024;
    private const int EventLoopsMax = 16;
    private readonly TransportCore _core;
    private readonly MultithreadEventLoopGroup _acceptors = new(1);
    private readonly MultithreadEventLoopGroup _workers = new(Math.Min(Environment.ProcessorCount, EventLoopsMax));
    private readonly List<DotNettyListener> _listeners = new();
    private int _disposed;

    public DotNettyTransport(ClusterConfig cluster, LocalIdentity identity, IFrameHandler handler, TransportOptions? options = null)
    {
        _core = new TransportCore(cluster, identity, handler, options ?? new TransportOptions());
    }

    public TransportKind Kind => TransportKind.DotNetty;
    public LocalIdentity Identity => _core.Identity;
    public TransportOptions Options => _core.Options;
    public BufferPool Pool => _core.Pool;
    public int ConnectionCount => _core.ConnectionCount;

    public async ValueTask<IConnectionListener> ListenAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_core.Identity.IsClient) throw new InvalidOperationException("a client identity cannot accept connections");
        var bootstrap = new ServerBootstrap()
            .Group(_acceptors, _workers)
            .Channel<TcpServerSocketChannel>()
            .Option(ChannelOption.SoBacklog, Backlog)
            .Option(ChannelOption.SoReuseaddr, true)
            .ChildOption(ChannelOption.TcpNodelay, true)
            .ChildOption(ChannelOption.WriteBufferHighWaterMark, DotNettyConnection.PendingBytesMax(_core.Options))
            .ChildOption(ChannelOption.WriteBufferLowWaterMark, DotNettyConnection.PendingBytesMax(_core.Options) / 2)
            .ChildHandler(new ActionChannelInitializer<IChannel>(InitializeAccepted));
        var channel = await bootstrap.BindAsync(endPoint).WaitAsync(cancellationToken).ConfigureAwait(false);
        var listener = new DotNettyListener(channel);
        lock (_listeners) _listeners.Add(listener);
        return listener;
    }

    private void InitializeAccepted(IChannel channel) => channel.Pipeline.AddLast(new DotNettyFrameHandler(CreateAccepted));

    private DotNettyConnection? CreateAccepted(IChannel channel)
    {
        if (!_core.TryAdmitInbound())
        {
            _core.Log(TransportLogLevel.Warning, $"listener: inbound connection limit {_core.Options.InboundConnectionsMax} reached; closing connection from {channel.RemoteAddress}");
            return null;
        }
        return new DotNettyConnection(_core, channel, initiator: false, expectedPeer: null, remote: null);
    }

    public async ValueTask<Connection> ConnectAsync(IPEndPoint endPoint, NodeId? expectedPeer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_core.Options.ConnectTimeout);
        var handler = new DotNettyFrameHandler(channel => new DotNettyConnection(_core, channel, initiator: true, expectedPeer, endPoint));
        var bootstrap = new Bootstrap()
            .Group(_workers)
            .Channel<TcpSocketChannel>()
            .Option(ChannelOption.TcpNodelay, true)
            .Option(ChannelOption.WriteBufferHighWaterMark, DotNettyConnection.PendingBytesMax(_core.Options))
            .Option(ChannelOption.WriteBufferLowWaterMark, DotNettyConnection.PendingBytesMax(_core.Options) / 2)
            .Handler(new ActionChannelInitializer<IChannel>(channel => channel.Pipeline.AddLast(handler)));
        var connecting = bootstrap.ConnectAsync(endPoint);
        DotNettyConnection connection;
        try
        {
            await connecting.WaitAsync(timeout.Token).ConfigureAwait(false);
            connection = await handler.Active.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The connect may still finish later; close the channel whenever it does.
            _ = connecting.ContinueWith(static t => t.Result.CloseAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw new TimeoutException($"connect to {endPoint} timed out");
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            throw new IOException($"connect to {endPoint} failed: {e.Message}", e);
        }
        await ConnectionSetup.AwaitEstablishedAsync(connection, timeout.Token).ConfigureAwait(false);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        DotNettyListener[] listeners;
        lock (_listeners) listeners = _listeners.ToArray();
        foreach (var l in listeners) await l.DisposeAsync().ConfigureAwait(false);
        await _core.CloseAllAsync("transport disposed").ConfigureAwait(false);
        await Task.WhenAll(
            _acceptors.ShutdownGracefullyAsync(TimeSpan.Zero, TimeSpan.FromSeconds(1)),
            _workers.ShutdownGracefullyAsync(TimeSpan.Zero, TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        _core.Pool.Dispose();
    }
}
