using Chainspace.Transport.Buffers;

namespace Chainspace.Transport.Framing;

/// <summary>
/// Turns a byte stream into frames for a <see cref="Connection"/>, shared by both transports. Bytes land
/// in one pooled receive buffer (the socket transport receives straight into it); every complete frame
/// in it is handed over in place, without a copy. A frame larger than the buffer is assembled in a
/// pooled block of its own, and the receive window is cut at its end so no bytes of the next frame
/// land there. Used by one receive loop at a time; <see cref="Dispose"/> only after that loop ended.
/// </summary>
internal sealed class FrameReceiver : IDisposable
{
    private readonly IFrameConsumer _connection;
    private readonly BufferPool _pool;
    private readonly int _frameBytesMax;
    private readonly int _wireBytesMax;
    private PooledBlock? _buffer;
    private int _start;
    private int _end;
    private PooledBlock? _large;
    private int _largeFilled;
    private int _largeTotal;

    public FrameReceiver(IFrameConsumer connection, BufferPool pool, TransportOptions options)
    {
        _connection = connection;
        _pool = pool;
        _frameBytesMax = options.FrameBytesMax;
        _wireBytesMax = options.WireBytesMax;
        _buffer = pool.RentBlock(options.ReceiveBufferBytes);
    }

    /// <summary>Bytes received but not yet part of a delivered frame (non-zero at close means a truncated frame).</summary>
    public int PendingBytes => _large is not null ? _largeFilled : _end - _start;

    /// <summary>Where the next received bytes go. Never empty while the receiver is live.</summary>
    public Memory<byte> ReceiveMemory => _large is not null
        ? _large.Memory[_largeFilled.._largeTotal]
        : _buffer!.Memory[_end..];

    /// <summary>Accounts <paramref name="count"/> bytes written into <see cref="ReceiveMemory"/> and delivers complete frames; false once closed.</summary>
    public bool OnReceived(int count)
    {
        if (_large is null)
        {
            _end += count;
            return Parse();
        }
        _largeFilled += count;
        return _largeFilled < _largeTotal || CompleteLarge();
    }

    /// <summary>Copies bytes from a transport that owns its own buffers (DotNetty), then parses them.</summary>
    public bool Consume(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var target = ReceiveMemory.Span;
            int n = Math.Min(target.Length, data.Length);
            data[..n].CopyTo(target);
            data = data[n..];
            if (!OnReceived(n)) return false;
        }
        return true;
    }

    private bool Parse()
    {
        var buffer = _buffer!;
        int needed = FrameHeader.Size;
        while (true)
        {
            var available = buffer.Span[_start.._end];
            var status = FrameHeader.TryRead(available, _frameBytesMax, _wireBytesMax, out var header, out var error);
            if (status == DecodeStatus.Malformed) return _connection.Reject(error!);
            if (status == DecodeStatus.NeedMoreData) break;
            if (header.PayloadLength > _connection.PayloadBytesLimit)
                return _connection.Reject($"frame length {header.PayloadLength} over the maximum {_connection.PayloadBytesLimit} before authentication");
            needed = header.WireLength;
            if (available.Length >= needed)
            {
                if (!_connection.OnWireFrame(header, available.Slice(FrameHeader.Size, header.PayloadLength))) return false;
                _start += needed;
                needed = FrameHeader.Size;
                continue;
            }
            if (needed > buffer.Length)
            {
                BeginLarge(needed, available);
                return true;
            }
            break;
        }
        Compact(needed);
        return true;
    }

    /// <summary>Keeps the partial frame's bytes where the rest of it can follow: moved to the front only when it would not fit.</summary>
    private void Compact(int needed)
    {
        int partial = _end - _start;
        if (partial == 0)
        {
            _start = _end = 0;
            return;
        }
        var buffer = _buffer!;
        if (_start + needed <= buffer.Length && _start < buffer.Length / 2) return;
        buffer.Span[_start.._end].CopyTo(buffer.Span);
        _start = 0;
        _end = partial;
    }

    private void BeginLarge(int total, ReadOnlySpan<byte> available)
    {
        _large = _pool.RentBlock(total);
        available.CopyTo(_large.Span);
        _largeFilled = available.Length;
        _largeTotal = total;
        _start = _end = 0;
    }

    private bool CompleteLarge()
    {
        var large = _large!;
        var frame = large.Span[.._largeTotal];
        _large = null;
        try
        {
            // The header was validated when the large frame began; reading it again cannot fail.
            FrameHeader.TryRead(frame, _frameBytesMax, _wireBytesMax, out var header, out _);
            return _connection.OnWireFrame(header, frame.Slice(FrameHeader.Size, header.PayloadLength));
        }
        finally
        {
            large.Dispose();
        }
    }

    public void Dispose()
    {
        _large?.Dispose();
        _large = null;
        _buffer?.Dispose();
        _buffer = null;
    }
}
