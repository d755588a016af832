using System.Buffers;

namespace Chainspace.Core.Memory;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> like <see cref="ArrayBufferWriter{T}"/>, for buffers the size of the state (a
/// checkpoint's snapshot): its array comes from <see cref="LargeBuffers"/> (pinned, uninitialized, huge-page-advised)
/// and grows in powers of two, so a reused writer first-touches its memory once, in huge pages where the OS allows.
/// </summary>
public sealed class LargeBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _written;

    public LargeBufferWriter(int initialCapacity = 0) =>
        _buffer = initialCapacity > 0 ? LargeBuffers.AllocateScratch<byte>(initialCapacity) : [];

    public int WrittenCount => _written;
    public int Capacity => _buffer.Length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>Forgets what was written; the memory is kept (and not cleared) for the next use.</summary>
    public void ResetWrittenCount() => _written = 0;

    public void Advance(int count)
    {
        if (count < 0 || count > _buffer.Length - _written) throw new ArgumentOutOfRangeException(nameof(count), $"{count} bytes past a free space of {_buffer.Length - _written}");
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed) return;
        long size = (long)_written + needed;
        if (size > Array.MaxLength) throw new OutOfMemoryException($"a buffer of {size} bytes is past the largest array");
        var grown = LargeBuffers.AllocateScratch<byte>((int)size);
        WrittenSpan.CopyTo(grown);
        _buffer = grown;
    }
}
