using System.Net;
using Chainspace.Core.Cluster;
using Chainspace.Transport.Framing;
using DotNetty.Buffers;
using DotNetty.Common.Concurrency;
using DotNetty.Transport.Channels;

namespace Chainspace.Transport.DotNetty;

/// <summary>
/// A connection over a DotNetty channel. Sends are coalesced the same way as on sockets: frames are
/// encoded into one pending heap buffer, and one flush per burst, run on the channel's event loop, hands
/// the whole buffer to the channel. The queue bound covers the pending buffer; DotNetty's own outbound
/// buffer is bounded by the channel's write-buffer water marks (<see cref="IChannel.IsWritable"/>).
/// Received buffers are copied into the shared <see cref="FrameReceiver"/>.
/// </summary>
internal sealed class DotNettyConnection : Connection, IRunnable
{
    private const int PendingInitialBytes = 16 * 1024;
    private readonly IChannel _channel;
    private readonly FrameReceiver _receiver;
    private readonly ByteBufferWriter _writer = new();
    private readonly Lock _sendLock = new();
    private IByteBuffer? _pending;
    private long _pendingBytes;
    private bool _flushScheduled;
    private bool _sendClosed;
    private int _finished;

    public DotNettyConnection(TransportCore core, IChannel channel, bool initiator, NodeId? expectedPeer, EndPoint? remote)
        : base(core, initiator, expectedPeer, remote ?? channel.RemoteAddress)
    {
        _channel = channel;
        _receiver = new FrameReceiver(this, core.Pool, core.Options);
    }

    public override long QueuedBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>Half of the send-queue bound is ours (pending), the other half DotNetty's outbound buffer.</summary>
    public static int PendingBytesMax(TransportOptions options) => options.SendQueueBytesMax / 2;

    public void OnActive() => StartHandshake();

    private protected override SendStatus Enqueue(byte frameType, ReadOnlySpan<byte> payload)
    {
        int bound = FrameWriter.EncodedLengthMax(payload.Length);
        bool schedule;
        lock (_sendLock)
        {
            if (_sendClosed) return SendStatus.NotConnected;
            long pending = Interlocked.Read(ref _pendingBytes);
            // A frame always fits an empty queue; otherwise both our buffer and the channel's must have room.
            if (pending > 0 && (pending + bound > PendingBytesMax(Core.Options) || !_channel.IsWritable)) return SendStatus.QueueFull;
            _pending ??= _channel.Allocator.HeapBuffer(Math.Max(PendingInitialBytes, bound));
            _writer.Buffer = _pending;
            int written = FrameWriter.Write(_writer, frameType, payload, Core.Options, Core.Pool);
            _writer.Buffer = null;
            Interlocked.Add(ref _pendingBytes, written);
            schedule = !_flushScheduled;
            _flushScheduled = true;
        }
        if (!schedule) return SendStatus.Queued;
        try
        {
            _channel.EventLoop.Execute(this);
        }
        catch (RejectedExecutionException)
        {
            // The event loop is shutting down: the connection is going away with it.
            Close("event loop shut down", TransportLogLevel.Debug);
            return SendStatus.NotConnected;
        }
        return SendStatus.Queued;
    }

    /// <summary>The flush task, on the event loop: hands everything pending to the channel in one write.</summary>
    void IRunnable.Run()
    {
        IByteBuffer? batch;
        lock (_sendLock)
        {
            batch = _pending;
            _pending = null;
            _flushScheduled = false;
            Interlocked.Exchange(ref _pendingBytes, 0);
        }
        if (batch is null) return;
        if (_sendClosed)
        {
            batch.Release();
            return;
        }
        _channel.WriteAndFlushAsync(batch);
    }

    public void OnRead(IByteBuffer buffer)
    {
        try
        {
            if (IsClosed) return;
            if (buffer.HasArray)
            {
                _receiver.Consume(buffer.Array.AsSpan(buffer.ArrayOffset + buffer.ReaderIndex, buffer.ReadableBytes));
                return;
            }
            foreach (var segment in buffer.GetIoBuffers())
                if (!_receiver.Consume(segment)) return;
        }
        finally
        {
            buffer.Release();
        }
    }

    public void OnInactive()
    {
        int pending = _receiver.PendingBytes;
        if (pending > 0) Reject($"peer closed the connection in the middle of a frame ({pending} bytes pending)");
        else Close("peer closed the connection", TransportLogLevel.Information);
        Finish();
    }

    public void OnException(Exception e) => Close($"channel error: {e.GetType().Name}: {e.Message}", TransportLogLevel.Information);

    private protected override void CloseTransport()
    {
        lock (_sendLock) _sendClosed = true;
        // Inactive follows on the event loop, which then releases the buffers (Finish).
        _channel.CloseAsync();
    }

    /// <summary>On the event loop after the channel went inactive: no read can follow, so the buffers go back.</summary>
    private void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return;
        _receiver.Dispose();
        lock (_sendLock)
        {
            _sendClosed = true;
            _pending?.Release();
            _pending = null;
            Interlocked.Exchange(ref _pendingBytes, 0);
        }
        OnTransportFinished();
    }
}
