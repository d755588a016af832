using System.Net;
using System.Security.Cryptography;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Framing;
using Chainspace.Transport.Handshake;

namespace Chainspace.Transport;

/// <summary>
/// One connection, initiated or accepted, over either transport. This base runs what both share: the
/// handshake, the gate that delivers only frames from an authenticated peer of the right cluster and of
/// an allowed type, decompression, and close-once with a logged reason. Subclasses move bytes.
/// </summary>
public abstract partial class Connection : IFrameSink, IFrameConsumer
{
    private const int StateAwaitHello = 0;
    private const int StateAwaitProof = 1;
    private const int StateEstablished = 2;
    private const int StateClosed = 3;

    private readonly TransportCore _core;
    private readonly NodeId? _expectedPeer;
    private readonly byte[] _localNonce = new byte[HelloMessage.NonceSize];
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HelloMessage _remoteHello;
    private Timer? _handshakeTimer;
    private int _state;
    private string? _closeReason;

    private protected Connection(TransportCore core, bool initiator, NodeId? expectedPeer, EndPoint? remote)
    {
        _core = core;
        IsInitiator = initiator;
        _expectedPeer = expectedPeer;
        RemoteEndPoint = remote;
        Id = core.NextConnectionId();
        RandomNumberGenerator.Fill(_localNonce);
    }

    public long Id { get; }
    public bool IsInitiator { get; }
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Who is on the other end; meaningful once <see cref="IsEstablished"/>.</summary>
    public PeerIdentity Peer { get; private set; }
    public bool IsEstablished => Volatile.Read(ref _state) == StateEstablished;
    public bool IsClosed => Volatile.Read(ref _state) == StateClosed;
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Cancelled when the connection closes, for whatever reason.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Completes once the connection is closed and every buffer it held is back in the pool.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Encoded bytes waiting in this connection's send queue.</summary>
    public abstract long QueuedBytes { get; }

    private protected TransportCore Core => _core;
    internal Task Established => _established.Task;

    public SendStatus TrySend(byte frameType, ReadOnlySpan<byte> payload) =>
        CheckSend(frameType, payload) is { } refused ? refused : Enqueue(frameType, payload);

    /// <summary>What both send paths refuse before queueing: a control type (a bug: throws), too large, not connected.</summary>
    private SendStatus? CheckSend(byte frameType, ReadOnlySpan<byte> payload)
    {
        if (FrameHeader.IsControlType(frameType)) throw new ArgumentOutOfRangeException(nameof(frameType), $"frame type 0x{frameType:X2} is reserved for the transport");
        if (payload.Length > _core.Options.FrameBytesMax) return SendStatus.TooLarge;
        if (Volatile.Read(ref _state) != StateEstablished) return SendStatus.NotConnected;
        return null;
    }

    /// <summary>
    /// Like <see cref="TrySend"/>, but the frame may be held until <see cref="FlushDeferred"/>, which the caller
    /// must call once it has queued what it has to send now (an event loop at the end of its round). The socket
    /// transport then writes everything deferred with one send syscall on the caller's thread when its send loop
    /// is idle, instead of waking that loop; frames keep their order with every other frame of the connection.
    /// </summary>
    public SendStatus TrySendDeferred(byte frameType, ReadOnlySpan<byte> payload) =>
        CheckSend(frameType, payload) is { } refused ? refused : EnqueueDeferred(frameType, payload);

    /// <summary>Sends (or hands to the send loop) every frame queued by <see cref="TrySendDeferred"/>. Never blocks.</summary>
    public virtual void FlushDeferred() { }

    /// <summary>Transports without a deferred path send at once.</summary>
    private protected virtual SendStatus EnqueueDeferred(byte frameType, ReadOnlySpan<byte> payload) => Enqueue(frameType, payload);

    /// <summary>Closes the connection; <paramref name="reason"/> is logged and passed to the handler.</summary>
    public void Abort(string reason) => Close(reason, TransportLogLevel.Information);

    /// <summary>Writes one encoded frame into the send queue without blocking, honouring the queue bound.</summary>
    private protected abstract SendStatus Enqueue(byte frameType, ReadOnlySpan<byte> payload);

    /// <summary>Shuts the socket or channel; the loops then end and call <see cref="OnTransportFinished"/>.</summary>
    private protected abstract void CloseTransport();

    /// <summary>Called by the subclass once the bytes can flow: registers, starts the handshake clock, sends Hello.</summary>
    private protected void StartHandshake()
    {
        _handshakeTimer = new Timer(static s => ((Connection)s!).OnHandshakeTimeout(), this, _core.Options.HandshakeTimeout, Timeout.InfiniteTimeSpan);
        _core.Register(this);
        if (IsInitiator && !IsClosed) SendHello();
    }

    /// <summary>Called by the subclass when its loops have ended and its buffers are returned.</summary>
    private protected void OnTransportFinished()
    {
        Close("transport finished", TransportLogLevel.Debug);
        _core.Unregister(this);
        _completion.TrySetResult();
    }

    internal void Close(string reason, TransportLogLevel level)
    {
        int previous = Interlocked.Exchange(ref _state, StateClosed);
        if (previous == StateClosed) return;
        Volatile.Write(ref _closeReason, reason);
        _handshakeTimer?.Dispose();
        _core.Log(level, $"connection {Id} ({Describe()}) closed: {reason}");
        _established.TrySetException(new IOException($"connection closed before authentication: {reason}"));
        try
        {
            CloseTransport();
        }
        finally
        {
            _closed.Cancel();
            if (previous == StateEstablished) NotifyHandler(static (h, c, r) => h.OnDisconnected(c, r!), reason);
        }
    }

    private void OnHandshakeTimeout()
    {
        if (Volatile.Read(ref _state) is StateAwaitHello or StateAwaitProof)
            Close($"handshake not completed within {_core.Options.HandshakeTimeout.TotalMilliseconds:F0} ms", TransportLogLevel.Warning);
    }

    private string Describe() => $"{(IsInitiator ? "to" : "from")} {RemoteEndPoint}{(IsEstablished || Peer != default ? $" {Peer}" : "")}";

    private void NotifyHandler(Action<IFrameHandler, Connection, string?> call, string? reason)
    {
        try
        {
            call(_core.Handler, this, reason);
        }
        catch (Exception e)
        {
            _core.Log(TransportLogLevel.Error, $"connection {Id}: handler threw {e.GetType().Name}: {e.Message}");
        }
    }
}
