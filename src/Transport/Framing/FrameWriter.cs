using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Transport.Buffers;
using K4os.Compression.LZ4;

namespace Chainspace.Transport.Framing;

/// <summary>
/// Encodes one frame into any <see cref="IBufferWriter{T}"/> (a Pipe for sockets, a DotNetty buffer):
/// header and payload, LZ4-compressed when the payload is long enough and compression pays.
/// </summary>
internal static class FrameWriter
{
    /// <summary>Upper bound of the encoded size, used to check the send-queue bound before writing.</summary>
    public static int EncodedLengthMax(int payloadLength) => FrameHeader.Size + payloadLength;

    /// <summary>Writes the frame and returns the bytes written (at most <see cref="EncodedLengthMax"/>).</summary>
    public static int Write(IBufferWriter<byte> writer, byte type, ReadOnlySpan<byte> payload, TransportOptions options, BufferPool pool)
    {
        if (payload.Length >= options.CompressBytesMin)
        {
            int written = TryWriteCompressed(writer, type, payload, pool);
            if (written > 0) return written;
        }
        return WriteRaw(writer, type, FrameFlags.None, payload);
    }

    private static int WriteRaw(IBufferWriter<byte> writer, byte type, FrameFlags flags, ReadOnlySpan<byte> payload)
    {
        int total = FrameHeader.Size + payload.Length;
        var span = writer.GetSpan(FrameHeader.Size);
        new FrameHeader(payload.Length, type, flags).Write(span);
        if (span.Length >= total)
        {
            // Small frames: header and payload in one contiguous write, one Advance.
            payload.CopyTo(span[FrameHeader.Size..]);
            writer.Advance(total);
            return total;
        }
        writer.Advance(FrameHeader.Size);
        writer.Write(payload);
        return total;
    }

    private static int TryWriteCompressed(IBufferWriter<byte> writer, byte type, ReadOnlySpan<byte> payload, BufferPool pool)
    {
        using var scratch = pool.RentBlock(FrameHeader.RawLengthSize + LZ4Codec.MaximumOutputSize(payload.Length));
        var output = scratch.Span;
        int encoded = LZ4Codec.Encode(payload, output[FrameHeader.RawLengthSize..], LZ4Level.L00_FAST);
        // Incompressible data goes out raw: the flag costs the receiver a copy, so it must buy bytes.
        if (encoded <= 0 || encoded + FrameHeader.RawLengthSize >= payload.Length) return 0;
        BinaryPrimitives.WriteInt32LittleEndian(output, payload.Length);
        return WriteRaw(writer, type, FrameFlags.Compressed, output[..(FrameHeader.RawLengthSize + encoded)]);
    }
}
