using Chainspace.Transport.Buffers;

namespace Chainspace.Transport;

/// <summary>
/// A received frame as the handler sees it: a span over a transport-owned pooled buffer (the receive
/// buffer, or the buffer a compressed or oversized frame was assembled in). It is valid only until
/// <see cref="IFrameHandler.OnFrame"/> returns — that return is the release point. A consumer that keeps
/// the bytes either copies what it needs or calls <see cref="Retain"/>, which hands it a lease it must dispose.
/// </summary>
public readonly ref struct InboundFrame
{
    private readonly BufferPool _pool;

    internal InboundFrame(byte type, ReadOnlySpan<byte> payload, bool wasCompressed, BufferPool pool)
    {
        Type = type;
        Payload = payload;
        WasCompressed = wasCompressed;
        _pool = pool;
    }

    public byte Type { get; }
    public ReadOnlySpan<byte> Payload { get; }
    public bool WasCompressed { get; }

    /// <summary>Copies the payload into a pooled block owned by the returned lease (dispose it to give it back).</summary>
    public FrameLease Retain()
    {
        var block = _pool.RentBlock(Math.Max(Payload.Length, 1));
        Payload.CopyTo(block.Span);
        return new FrameLease(Type, block, Payload.Length);
    }
}

/// <summary>A received frame kept past the handler call: the holder owns the block until <see cref="Dispose"/>.</summary>
public readonly struct FrameLease : IDisposable
{
    private readonly PooledBlock? _block;

    /// <summary>A lease over <paramref name="length"/> bytes of a block rented from a transport's pool (a node queueing a
    /// message to itself); disposing it returns the block.</summary>
    public FrameLease(byte type, PooledBlock block, int length)
    {
        Type = type;
        _block = block;
        Length = length;
    }

    public byte Type { get; }
    public int Length { get; }
    public ReadOnlySpan<byte> Payload => _block is null ? default : _block.Span[..Length];

    public void Dispose() => _block?.Dispose();
}
