namespace Chainspace.Transport.Framing;

/// <summary>Flag bits in a frame header. Any bit not defined here makes the frame malformed.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,
    /// <summary>Payload is [u32 raw length][LZ4 block]; decompressed into a pooled buffer on receipt.</summary>
    Compressed = 0x01,
}
