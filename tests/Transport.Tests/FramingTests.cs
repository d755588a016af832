using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Transport.Buffers;
using Chainspace.Transport.Framing;

namespace Chainspace.Transport.Tests;

public sealed class FramingTests
{
    private static readonly TransportOptions Options = new() { FrameBytesMax = 64 * 1024, CompressBytesMin = 1024 };

    [Fact]
    public void Header_RoundTrip_ReadsWhatWasWritten()
    {
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        new FrameHeader(1234, 0x42, FrameFlags.Compressed).Write(bytes);
        Assert.Equal(DecodeStatus.Ok, FrameHeader.TryRead(bytes, Options.FrameBytesMax, Options.WireBytesMax, out var header, out _));
        Assert.Equal(1234, header.PayloadLength);
        Assert.Equal(0x42, header.Type);
        Assert.Equal(FrameFlags.Compressed, header.Flags);
    }

    [Fact]
    public void Header_Truncated_NeedsMoreData()
    {
        var bytes = new byte[FrameHeader.Size - 1];
        Assert.Equal(DecodeStatus.NeedMoreData, FrameHeader.TryRead(bytes, Options.FrameBytesMax, Options.WireBytesMax, out _, out _));
    }

    [Theory]
    [InlineData(64 * 1024 + 1, 0, "over the maximum")]
    [InlineData(-1, 0, "over the maximum")]
    [InlineData(10, 0x02, "unknown flags")]
    [InlineData(3, 0x01, "has no raw length")]
    public void Header_Invalid_MalformedWithReason(int length, byte flags, string reason)
    {
        var bytes = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, length);
        bytes[5] = flags;
        Assert.Equal(DecodeStatus.Malformed, FrameHeader.TryRead(bytes, Options.FrameBytesMax, Options.WireBytesMax, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Writer_SmallPayload_RawFrame()
    {
        using var pool = BufferPool.For(Options);
        var writer = new ArrayBufferWriter<byte>();
        var payload = new byte[] { 1, 2, 3 };
        int written = FrameWriter.Write(writer, 7, payload, Options, pool);
        Assert.Equal(FrameHeader.Size + 3, written);
        Assert.Equal(new byte[] { 3, 0, 0, 0, 7, 0, 1, 2, 3 }, writer.WrittenSpan.ToArray());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Writer_CompressiblePayload_CompressedWithRawLength()
    {
        using var pool = BufferPool.For(Options);
        var writer = new ArrayBufferWriter<byte>();
        var payload = new byte[20_000];
        int written = FrameWriter.Write(writer, 7, payload, Options, pool);
        Assert.True(written < 1000);
        FrameHeader.TryRead(writer.WrittenSpan, Options.FrameBytesMax, Options.WireBytesMax, out var header, out _);
        Assert.Equal(FrameFlags.Compressed, header.Flags);
        Assert.Equal(20_000, BinaryPrimitives.ReadInt32LittleEndian(writer.WrittenSpan[FrameHeader.Size..]));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Writer_IncompressiblePayload_SentRaw()
    {
        using var pool = BufferPool.For(Options);
        var writer = new ArrayBufferWriter<byte>();
        var payload = TestCluster.Payload(20_000, seed: 1);
        Assert.Equal(FrameHeader.Size + payload.Length, FrameWriter.Write(writer, 7, payload, Options, pool));
        Assert.Equal(payload, writer.WrittenSpan[FrameHeader.Size..].ToArray());
    }

    [Fact]
    public void Pool_RentReturn_CountsOutstandingAndReuses()
    {
        using var pool = new BufferPool(1 << 20, 4, 1, 4096);
        var a = pool.RentBlock(100);
        var b = pool.RentBlock(5000);
        Assert.Equal(4096, a.Length);
        Assert.Equal(8192, b.Length);
        Assert.Equal(2, pool.Outstanding);
        a.Dispose();
        b.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Same(a, pool.RentBlock(4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.RentBlock((1 << 20) + 1));
    }

    [Fact]
    public void Pool_DoubleReturn_IsAnInvariantViolation()
    {
        using var pool = new BufferPool(1 << 16, 4, 0, 0);
        var block = pool.RentBlock(10);
        block.Dispose();
        Assert.Throws<Chainspace.Core.InvariantViolationException>(() => block.Dispose());
    }

    [Fact]
    public void Options_Invalid_RejectedNamingTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new TransportOptions { SendQueueBytesMax = 1000 }.Validate());
        Assert.Contains("sendQueueBytesMax", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TransportOptions { ClientFrameTypes = FrameTypeSet.Of(0xF3) }.Validate());
        Assert.Contains("reserved", e.Message);
    }
}
