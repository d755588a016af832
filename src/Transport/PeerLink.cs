using System.Net;
using Chainspace.Core.Cluster;

namespace Chainspace.Transport;

/// <summary>
/// A standing outbound connection to one replica: connects, and after any failure or close reconnects
/// with capped exponential backoff (jittered, so restarted replicas are not hit by every peer at once).
/// While it is reconnecting, <see cref="TrySend"/> reports <see cref="SendStatus.NotConnected"/>: frames
/// are not buffered across connections, the protocol above retransmits what matters.
/// </summary>
public sealed class PeerLink : IFrameSink, IAsyncDisposable
{
    private readonly ITransport _transport;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private Connection? _current;
    private int _connects;

    public PeerLink(ITransport transport, NodeId peer, IPEndPoint endPoint)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        Peer = peer;
        EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
        _run = Task.Run(RunAsync);
    }

    /// <summary>A link to <paramref name="peer"/> at the address the cluster configuration lists for it.</summary>
    public static PeerLink ToReplica(ITransport transport, ClusterConfig cluster, NodeId peer) =>
        new(transport, peer, cluster.Replica(peer).EndPoint);

    public NodeId Peer { get; }
    public IPEndPoint EndPoint { get; }
    public Connection? Current => Volatile.Read(ref _current);
    public bool IsConnected => Current is { IsEstablished: true };

    /// <summary>Successful connections so far (1 after the first, more after each reconnect).</summary>
    public int Connects => Volatile.Read(ref _connects);

    public SendStatus TrySend(byte frameType, ReadOnlySpan<byte> payload) =>
        Current is { } connection ? connection.TrySend(frameType, payload) : SendStatus.NotConnected;

    private async Task RunAsync()
    {
        var options = _transport.Options;
        var delay = options.ReconnectDelayMin;
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var connection = await _transport.ConnectAsync(EndPoint, Peer, token).ConfigureAwait(false);
                Volatile.Write(ref _current, connection);
                Interlocked.Increment(ref _connects);
                delay = options.ReconnectDelayMin;
                await connection.Completion.WaitAsync(token).ConfigureAwait(false);
                _transport.Options.Logger?.Invoke(TransportLogLevel.Information, $"link to {Peer}: connection lost ({connection.CloseReason}); reconnecting");
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                // The transport was disposed under the link: nothing left to connect with.
                break;
            }
            catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                _transport.Options.Logger?.Invoke(TransportLogLevel.Debug, $"link to {Peer}: connect failed: {e.Message}; retry in {delay.TotalMilliseconds:F0} ms");
            }
            Volatile.Write(ref _current, null);
            if (!await DelayAsync(Jitter(delay), token).ConfigureAwait(false)) break;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.ReconnectDelayMax.Ticks));
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => TimeSpan.FromTicks(delay.Ticks / 2 + Random.Shared.NextInt64(delay.Ticks / 2 + 1));

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _run.ConfigureAwait(false);
        if (Current is { } connection)
        {
            connection.Abort("link disposed");
            await connection.Completion.ConfigureAwait(false);
        }
        Volatile.Write(ref _current, null);
        _stop.Dispose();
    }
}
