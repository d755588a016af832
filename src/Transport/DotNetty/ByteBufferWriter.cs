using System.Buffers;
using DotNetty.Buffers;

namespace Chainspace.Transport.DotNetty;

/// <summary>Lets <see cref="Framing.FrameWriter"/> encode straight into a heap <see cref="IByteBuffer"/>.</summary>
internal sealed class ByteBufferWriter : IBufferWriter<byte>
{
    private const int SizeHintMin = 256;

    public IByteBuffer? Buffer { get; set; }

    public void Advance(int count) => Buffer!.SetWriterIndex(Buffer.WriterIndex + count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var buffer = Reserve(sizeHint);
        return buffer.Array.AsMemory(buffer.ArrayOffset + buffer.WriterIndex, buffer.WritableBytes);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var buffer = Reserve(sizeHint);
        return buffer.Array.AsSpan(buffer.ArrayOffset + buffer.WriterIndex, buffer.WritableBytes);
    }

    private IByteBuffer Reserve(int sizeHint)
    {
        var buffer = Buffer!;
        buffer.EnsureWritable(Math.Max(sizeHint, SizeHintMin));
        return buffer;
    }
}
