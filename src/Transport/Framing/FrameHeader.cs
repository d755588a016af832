using System.Buffers.Binary;

namespace Chainspace.Transport.Framing;

/// <summary>
/// The wire header shared by both transports: [u32 LE payload length][u8 frame type][u8 flags], then the
/// payload. Types from <see cref="ControlTypeFirst"/> up are the transport's own (handshake); the node
/// decides what the others mean.
/// </summary>
public readonly struct FrameHeader
{
    public const int Size = 6;
    public const int RawLengthSize = 4;
    public const byte ControlTypeFirst = 0xF0;
    public const byte HelloType = 0xF0;
    public const byte ProofType = 0xF1;
    private const byte KnownFlags = (byte)FrameFlags.Compressed;

    public FrameHeader(int payloadLength, byte type, FrameFlags flags)
    {
        PayloadLength = payloadLength;
        Type = type;
        Flags = flags;
    }

    /// <summary>Length of the payload as sent (compressed length when <see cref="FrameFlags.Compressed"/>).</summary>
    public int PayloadLength { get; }
    public byte Type { get; }
    public FrameFlags Flags { get; }
    public int WireLength => Size + PayloadLength;
    public bool IsControl => Type >= ControlTypeFirst;

    public static bool IsControlType(byte type) => type >= ControlTypeFirst;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, PayloadLength);
        destination[4] = Type;
        destination[5] = (byte)Flags;
    }

    /// <summary>
    /// Reads a header, checking what can be checked without the payload. Consumes nothing on
    /// <see cref="DecodeStatus.NeedMoreData"/>; <paramref name="error"/> says why on <see cref="DecodeStatus.Malformed"/>.
    /// </summary>
    public static DecodeStatus TryRead(ReadOnlySpan<byte> input, int frameBytesMax, int wireBytesMax, out FrameHeader header, out string? error)
    {
        header = default;
        error = null;
        if (input.Length < Size) return DecodeStatus.NeedMoreData;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(input);
        byte type = input[4];
        byte flags = input[5];
        if ((flags & ~KnownFlags) != 0)
        {
            error = $"unknown flags 0x{flags:X2} on frame type 0x{type:X2}";
            return DecodeStatus.Malformed;
        }
        bool compressed = (flags & (byte)FrameFlags.Compressed) != 0;
        long limit = compressed ? wireBytesMax - Size : frameBytesMax;
        if (length > limit)
        {
            error = $"frame length {length} over the maximum {limit}";
            return DecodeStatus.Malformed;
        }
        if (compressed && length < RawLengthSize)
        {
            error = $"compressed frame of {length} bytes has no raw length";
            return DecodeStatus.Malformed;
        }
        header = new FrameHeader((int)length, type, (FrameFlags)flags);
        return DecodeStatus.Ok;
    }
}

public enum DecodeStatus : byte { Ok, NeedMoreData, Malformed }
