using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Framing;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// A connection over a raw socket: one receive loop parsing frames in place from a pooled buffer, and
/// one send loop draining a Pipe that any thread appends encoded frames to. Everything queued while a
/// send is in flight goes out together in the next send, so a busy connection writes many frames per
/// syscall. Both loops await reusable SocketAsyncEventArgs: no Task and no buffer per operation.
/// </summary>
internal sealed partial class SocketConnection : Connection
{
    private readonly Socket _socket;
    private readonly Pipe _output;
    private readonly FrameReceiver _receiver;
    private readonly SocketAwaitableEventArgs _receiveArgs;
    private readonly SocketSender _sender;
    private readonly Lock _sendLock = new();
    private long _queuedBytes;
    private bool _outputCompleted;
    // Guarded by _sendLock. A Pipe flush per frame (lock, state machine, reader wake-up) cost more than the frame's
    // encoding: producers publish with FlushAsync only while the send loop waits for data; while it is busy sending
    // they just write, and the loop publishes everything they wrote in one flush before it reads again.
    private bool _sendLoopWaiting = true;
    private bool _unflushed;
    private int _transportClosed;
    // Guarded by _sendLock. Deferred frames written while the send loop was idle, sent by FlushDeferred on the
    // caller's thread (Linux only). Holds bytes only while the send loop waits and the pipe is empty, so the
    // pipe never has bytes that should follow these; any other write spills them into the pipe first.
    private readonly ArrayBufferWriter<byte>? _direct;

    public SocketConnection(TransportCore core, Socket socket, bool initiator, NodeId? expectedPeer, IoQueue scheduler)
        : base(core, initiator, expectedPeer, socket.RemoteEndPoint)
    {
        _socket = socket;
        _socket.NoDelay = true;
        var options = core.Options;
        // The queue bound is ours (SendQueueBytesMax, checked before writing), so the pipe never pauses the writer.
        _output = new Pipe(new PipeOptions(pool: core.Pool, readerScheduler: scheduler, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: options.SendSegmentBytes, useSynchronizationContext: false));
        _receiver = new FrameReceiver(this, core.Pool, options);
        _receiveArgs = new SocketAwaitableEventArgs(options.InlineReceive ? PipeScheduler.Inline : scheduler);
        _sender = new SocketSender(scheduler);
        if (OperatingSystem.IsLinux()) _direct = new ArrayBufferWriter<byte>(options.SendSegmentBytes);
    }

    public override long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    public void Start()
    {
        StartHandshake();
        var receiving = DoReceive();
        var sending = DoSend();
        _ = FinishAsync(receiving, sending);
    }

    private protected override SendStatus Enqueue(byte frameType, ReadOnlySpan<byte> payload)
    {
        int bound = FrameWriter.EncodedLengthMax(payload.Length);
        lock (_sendLock)
        {
            if (_outputCompleted) return SendStatus.NotConnected;
            if (Volatile.Read(ref _queuedBytes) + bound > Core.Options.SendQueueBytesMax) return SendStatus.QueueFull;
            SpillDirectLocked();
            var writer = _output.Writer;
            int written = FrameWriter.Write(writer, frameType, payload, Core.Options, Core.Pool);
            Interlocked.Add(ref _queuedBytes, written);
            if (_sendLoopWaiting)
            {
                _sendLoopWaiting = false;
                PublishLocked();
            }
            else
            {
                _unflushed = true;
            }
            return SendStatus.Queued;
        }
    }

    private protected override SendStatus EnqueueDeferred(byte frameType, ReadOnlySpan<byte> payload)
    {
        if (_direct is null) return Enqueue(frameType, payload);
        int bound = FrameWriter.EncodedLengthMax(payload.Length);
        lock (_sendLock)
        {
            // Only while the send loop is idle and the pipe holds nothing, and only what fits one segment:
            // otherwise the frame joins the pipe (Enqueue), behind whatever is deferred already.
            if (!_outputCompleted && _sendLoopWaiting && !_unflushed && _direct.WrittenCount + bound <= Core.Options.SendSegmentBytes)
            {
                if (Volatile.Read(ref _queuedBytes) + bound > Core.Options.SendQueueBytesMax) return SendStatus.QueueFull;
                int written = FrameWriter.Write(_direct, frameType, payload, Core.Options, Core.Pool);
                Interlocked.Add(ref _queuedBytes, written);
                return SendStatus.Queued;
            }
        }
        return Enqueue(frameType, payload);
    }

    public override void FlushDeferred()
    {
        if (_direct is null) return;
        int error = 0;
        lock (_sendLock)
        {
            if (_direct.WrittenCount == 0) return;
            if (_outputCompleted)
            {
                _direct.ResetWrittenCount();
                return;
            }
            var bytes = _direct.WrittenSpan;
            int sent = SendNow(bytes, out error);
            if (sent > 0) Interlocked.Add(ref _queuedBytes, -sent);
            if (sent == bytes.Length)
            {
                _direct.ResetWrittenCount();
                return;
            }
            if (error == 0)
            {
                // The socket buffer is full: the send loop takes the rest and waits for room.
                _output.Writer.Write(bytes[Math.Max(sent, 0)..]);
                _direct.ResetWrittenCount();
                _sendLoopWaiting = false;
                PublishLocked();
                return;
            }
            _direct.ResetWrittenCount();
        }
        Close($"send failed: errno {error}", TransportLogLevel.Information);
    }

    /// <summary>Moves deferred bytes into the pipe, ahead of what is written next. Caller holds <see cref="_sendLock"/>.</summary>
    private void SpillDirectLocked()
    {
        if (_direct is null || _direct.WrittenCount == 0) return;
        _output.Writer.Write(_direct.WrittenSpan);
        _direct.ResetWrittenCount();
        _unflushed = true;
    }

    /// <summary>
    /// One non-blocking send(2) on this thread: the bytes sent (0 when the socket buffer is full, error 0), or
    /// -1 with errno. Written by hand: Socket.Send would block or go through the socket's async queue, and the
    /// point is one syscall with no thread woken.
    /// </summary>
    private unsafe int SendNow(ReadOnlySpan<byte> bytes, out int error)
    {
        error = 0;
        bool added = false;
        var handle = _socket.SafeHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                nint n;
                fixed (byte* p = bytes) n = send(fd, p, (nuint)bytes.Length, MsgDontWait | MsgNoSignal);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr) continue;
                if (errno == EAgain) return 0;
                error = errno;
                return -1;
            }
        }
        catch (ObjectDisposedException)
        {
            error = EBadF;
            return -1;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private const int MsgDontWait = 0x40, MsgNoSignal = 0x4000, EIntr = 4, EAgain = 11, EBadF = 9;

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(int socket, byte* buffer, nuint length, int flags);

    /// <summary>Makes the written bytes readable by the send loop (waking it if it waits). Caller holds <see cref="_sendLock"/>.</summary>
    private void PublishLocked()
    {
        _unflushed = false;
        // Never pauses (no writer threshold); it only publishes the bytes and wakes the send loop if it waits.
        var flush = _output.Writer.FlushAsync();
        if (flush.IsCompletedSuccessfully && flush.Result.IsCompleted) _outputCompleted = true;
        else if (!flush.IsCompleted) throw new InvalidOperationException("send pipe paused despite having no pause threshold");
    }

    private async Task DoReceive()
    {
        try
        {
            while (true)
            {
                int received = await _receiveArgs.ReceiveAsync(_socket, _receiver.ReceiveMemory);
                if (received == 0)
                {
                    int pending = _receiver.PendingBytes;
                    if (pending > 0) Reject($"peer closed the connection in the middle of a frame ({pending} bytes pending)");
                    else Close("peer closed the connection", TransportLogLevel.Information);
                    return;
                }
                if (!_receiver.OnReceived(received)) return;
            }
        }
        catch (SocketException e)
        {
            Close(IsClosed ? "closed locally" : $"receive failed: {e.SocketErrorCode}", TransportLogLevel.Information);
        }
        catch (ObjectDisposedException)
        {
            Close("closed locally", TransportLogLevel.Debug);
        }
    }

    private async Task DoSend()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                if (result.IsCanceled) return;
                var buffer = result.Buffer;
                var segment = SocketSender.FirstSegment(buffer);
                long sent = 0;
                if (!segment.IsEmpty)
                {
                    sent = await _sender.SendAsync(_socket, segment);
                    if (sent == 0)
                    {
                        // Never retry a send that moved nothing: the loop would spin on the same bytes.
                        Close("send made no progress (socket shut down)", TransportLogLevel.Information);
                        return;
                    }
                    Interlocked.Add(ref _queuedBytes, -sent);
                }
                // Consume exactly what the socket took; the rest is read again on the next turn.
                reader.AdvanceTo(buffer.Slice(0, sent).End);
                if (result.IsCompleted && sent == buffer.Length) return;
                lock (_sendLock)
                {
                    // Publish what producers wrote during the send; with nothing left, the next producer must wake us.
                    if (_unflushed && !_outputCompleted) PublishLocked();
                    else if (sent == buffer.Length) _sendLoopWaiting = true;
                }
            }
        }
        catch (SocketException e)
        {
            Close(IsClosed ? "closed locally" : $"send failed: {e.SocketErrorCode}", TransportLogLevel.Information);
        }
        catch (ObjectDisposedException)
        {
            Close("closed locally", TransportLogLevel.Debug);
        }
        finally
        {
            reader.Complete();
        }
    }

    private protected override void CloseTransport()
    {
        if (Interlocked.Exchange(ref _transportClosed, 1) != 0) return;
        lock (_sendLock)
        {
            _outputCompleted = true;
            _output.Writer.Complete();
        }
        // Close is abortive: what is still queued is dropped, and the send loop stops at once.
        _output.Reader.CancelPendingRead();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to shut down.
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }

    private async Task FinishAsync(Task receiving, Task sending)
    {
        try
        {
            await receiving.ConfigureAwait(false);
            await sending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug in a loop must still release the connection's buffers and slot, and be seen.
            Core.Log(TransportLogLevel.Error, $"connection {Id}: loop failed: {e}");
            Close($"internal error: {e.GetType().Name}", TransportLogLevel.Error);
        }
        // Only now no loop can touch the receive buffer or the SAEAs.
        _receiver.Dispose();
        _receiveArgs.Dispose();
        _sender.Dispose();
        Interlocked.Exchange(ref _queuedBytes, 0);
        OnTransportFinished();
    }
}
