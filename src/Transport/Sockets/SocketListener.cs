using System.Net;
using System.Net.Sockets;

namespace Chainspace.Transport.Sockets;

/// <summary>Accept loop of the socket transport: admits up to the inbound limit, closes the rest with a logged reason.</summary>
internal sealed class SocketListener : IConnectionListener
{
    private const int Backlog = 1024;
    private readonly SocketTransport _transport;
    private readonly TransportCore _core;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public SocketListener(SocketTransport transport, TransportCore core, IPEndPoint endPoint)
    {
        _transport = transport;
        _core = core;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // A restarted replica must rebind its port while old connections linger in TIME_WAIT.
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            _socket.Bind(endPoint);
            _socket.Listen(Backlog);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = AcceptLoop();
    }

    public IPEndPoint EndPoint { get; }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Transient accept errors (e.g. out of descriptors) must not stop the listener.
                _core.Log(TransportLogLevel.Warning, $"listener {EndPoint}: accept failed: {e.SocketErrorCode}");
                continue;
            }
            Admit(accepted);
        }
    }

    private void Admit(Socket accepted)
    {
        if (!_core.TryAdmitInbound())
        {
            _core.Log(TransportLogLevel.Warning, $"listener {EndPoint}: inbound connection limit {_core.Options.InboundConnectionsMax} reached; closing connection from {accepted.RemoteEndPoint}");
            // Reset rather than FIN: nothing to say to it, and no TIME_WAIT left behind on our side.
            accepted.LingerState = new LingerOption(true, 0);
            accepted.Dispose();
            return;
        }
        try
        {
            new SocketConnection(_core, accepted, initiator: false, expectedPeer: null, _transport.NextQueue()).Start();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer vanished between accept and setup; give the slot back.
            _core.Log(TransportLogLevel.Information, $"listener {EndPoint}: connection lost during setup: {e.Message}");
            _core.ReleaseInbound();
            accepted.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
