using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Chainspace.Core.Codec;

/// <summary>
/// Forward-only writer into a caller-supplied span. Writing past the end is a programmer error
/// (callers size the span with the matching <c>GetEncodedLength</c>), so it throws rather than
/// returning false. Varints are minimal-length LEB128.
/// </summary>
public ref struct SpanWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public SpanWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Written => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly Span<byte> WrittenSpan => _buffer[.._position];

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteFormatHeader()
    {
        Ensure(2);
        _buffer[_position++] = FormatVersion.V1;
        _buffer[_position++] = (byte)Hashing.Algorithm;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarUInt64(ulong value)
    {
        if (value < 0x80)
        {
            Ensure(1);
            _buffer[_position++] = (byte)value;
            return;
        }
        Ensure(VarintLength(value));
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_position++] = (byte)value;
    }

    public void WriteUInt64LittleEndian(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.Slice(_position, 8), value);
        _position += 8;
    }

    public void WriteInt64LittleEndian(long value) => WriteUInt64LittleEndian((ulong)value);

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    /// <summary>Varint length, then the bytes.</summary>
    public void WriteBlob(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt64((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>A name as a blob of ASCII bytes.</summary>
    public void WriteName(string name)
    {
        if (!Names.IsValid(name)) throw new ArgumentException($"'{name}' is not a valid name (1+ printable ASCII bytes)", nameof(name));
        WriteVarUInt64((ulong)name.Length);
        Ensure(name.Length);
        for (int i = 0; i < name.Length; i++) _buffer[_position++] = (byte)name[i];
    }

    public void WriteHash(in Hash256 hash)
    {
        Ensure(Hash256.Size);
        hash.WriteTo(_buffer.Slice(_position, Hash256.Size));
        _position += Hash256.Size;
    }

    /// <summary>Reserves <paramref name="length"/> bytes and returns them for the caller to fill.</summary>
    public Span<byte> Reserve(int length)
    {
        Ensure(length);
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    public static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    public static int BlobLength(int length) => VarintLength((ulong)length) + length;
    public static int NameLength(string name) => VarintLength((ulong)name.Length) + name.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Ensure(int length)
    {
        if (length > _buffer.Length - _position) ThrowNoRoom(length, _buffer.Length - _position);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNoRoom(int needed, int left) =>
        throw new InvalidOperationException($"SpanWriter: {needed} bytes needed, {left} left; the caller sized the buffer wrong");
}
