using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Framing;
using Chainspace.Transport.Handshake;

namespace Chainspace.Transport.Tests;

/// <summary>A hand-driven TCP peer for hostile-input tests: writes whatever bytes a test wants.</summary>
public sealed class RawPeer : IDisposable
{
    private readonly Socket _socket;

    private RawPeer(Socket socket) => _socket = socket;

    public static async Task<RawPeer> Connect(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new RawPeer(socket);
    }

    public Socket Socket => _socket;

    public void Send(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    public void SendFrame(byte type, ReadOnlySpan<byte> payload, FrameFlags flags = FrameFlags.None)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(payload.Length, type, flags).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        Send(frame);
    }

    /// <summary>A client hello: a client proves nothing, so a raw peer can complete the handshake this way.</summary>
    public void SendClientHello(Hash256 clusterId, uint epoch)
    {
        var payload = new byte[HelloMessage.Size];
        new HelloMessage(HelloMessage.RoleClient, clusterId, epoch, default(NodeId), new byte[HelloMessage.NonceSize]).Write(payload);
        SendFrame(FrameHeader.HelloType, payload);
    }

    /// <summary>Reads (and discards) until the server closes or resets the connection; false if still open at the deadline.</summary>
    public async Task<bool> WaitClosed(TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0) return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
