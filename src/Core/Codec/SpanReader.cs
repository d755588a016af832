using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Chainspace.Core.Codec;

/// <summary>
/// Forward-only reader over a span. Every TryRead either succeeds and advances, or fails and consumes
/// nothing, leaving <see cref="Failure"/> set with the offset where the problem is.
/// Varints are unsigned LEB128 and must be canonical (minimal length), so every value has one encoding.
/// </summary>
public ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private CodecFailure _failure;

    public SpanReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _failure = default;
    }

    public readonly int Consumed => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly bool End => _position == _buffer.Length;
    public readonly CodecFailure Failure => _failure;
    public readonly ReadOnlySpan<byte> Buffer => _buffer;

    /// <summary>Records a failure found by the caller (a bad value at the current offset).</summary>
    public bool Fail(CodecError error) => Fail(error, _position);

    public bool Fail(CodecError error, int offset)
    {
        if (!_failure.IsError) _failure = new CodecFailure(error, offset);
        return false;
    }

    public bool TryReadByte(out byte value)
    {
        if (_position >= _buffer.Length)
        {
            value = 0;
            return Fail(CodecError.Truncated);
        }
        value = _buffer[_position++];
        return true;
    }

    public bool TryReadUInt64LittleEndian(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return Fail(CodecError.Truncated);
        }
        value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.Slice(_position, 8));
        _position += 8;
        return true;
    }

    public bool TryReadInt64LittleEndian(out long value)
    {
        bool ok = TryReadUInt64LittleEndian(out ulong raw);
        value = (long)raw;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadVarUInt64(out ulong value)
    {
        // Fast path: one byte, always canonical.
        if (_position < _buffer.Length && _buffer[_position] < 0x80)
        {
            value = _buffer[_position++];
            return true;
        }
        return TryReadVarUInt64Slow(out value);
    }

    private bool TryReadVarUInt64Slow(out ulong value)
    {
        value = 0;
        int start = _position;
        ulong result = 0;
        for (int i = 0; i < 10; i++)
        {
            int at = start + i;
            if (at >= _buffer.Length) return Fail(CodecError.Truncated, at);
            byte b = _buffer[at];
            if (i == 9 && b > 0x01) return Fail(CodecError.VarintOverflow, start);
            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                // A final zero byte after the first means a shorter encoding existed.
                if (i > 0 && b == 0) return Fail(CodecError.NonCanonicalVarint, start);
                _position = at + 1;
                value = result;
                return true;
            }
        }
        return Fail(CodecError.VarintOverflow, start);
    }

    /// <summary>Reads a count and checks it against a limit and the bytes left (each item needs at
    /// least <paramref name="minItemBytes"/>), so no caller ever sizes anything from an unchecked count.</summary>
    public bool TryReadCount(int max, int minItemBytes, out int count)
    {
        int start = _position;
        count = 0;
        if (!TryReadVarUInt64(out ulong raw)) return false;
        if (raw > (ulong)max)
        {
            _position = start;
            return Fail(CodecError.CountOverLimit, start);
        }
        if (minItemBytes > 0 && raw * (ulong)minItemBytes > (ulong)Remaining)
        {
            _position = start;
            return Fail(CodecError.Truncated, start);
        }
        count = (int)raw;
        return true;
    }

    /// <summary>Reads a varint length, then that many bytes. The returned span aliases the input.</summary>
    public bool TryReadBlob(int max, out ReadOnlySpan<byte> blob)
    {
        int start = _position;
        blob = default;
        if (!TryReadVarUInt64(out ulong raw)) return false;
        if (raw > (ulong)max)
        {
            _position = start;
            return Fail(CodecError.LengthOverLimit, start);
        }
        if (raw > (ulong)Remaining)
        {
            _position = start;
            return Fail(CodecError.Truncated, start);
        }
        blob = _buffer.Slice(_position, (int)raw);
        _position += (int)raw;
        return true;
    }

    /// <summary>A name: 1..max bytes of printable ASCII (0x21..0x7E).</summary>
    public bool TryReadName(int max, out ReadOnlySpan<byte> name)
    {
        int start = _position;
        if (!TryReadBlob(max, out name)) return false;
        if (!Names.IsValid(name))
        {
            _position = start;
            name = default;
            return Fail(CodecError.InvalidName, start);
        }
        return true;
    }

    public bool TryReadBytes(int length, out ReadOnlySpan<byte> bytes)
    {
        if (length < 0 || length > Remaining)
        {
            bytes = default;
            return Fail(CodecError.Truncated);
        }
        bytes = _buffer.Slice(_position, length);
        _position += length;
        return true;
    }

    public bool TryReadHash(out Hash256 hash)
    {
        if (Remaining < Hash256.Size)
        {
            hash = default;
            return Fail(CodecError.Truncated);
        }
        hash = new Hash256(_buffer.Slice(_position, Hash256.Size));
        _position += Hash256.Size;
        return true;
    }

    /// <summary>Reads the version and hash-algorithm header bytes every hashed format starts with.</summary>
    public bool TryReadFormatHeader()
    {
        int start = _position;
        if (Remaining < 2) return Fail(CodecError.Truncated);
        if (_buffer[start] != FormatVersion.V1) return Fail(CodecError.UnknownVersion, start);
        if (_buffer[start + 1] != (byte)HashAlgorithmId.Sha256) return Fail(CodecError.UnknownHashAlgorithm, start + 1);
        _position += 2;
        return true;
    }

    /// <summary>Fails with <see cref="CodecError.TrailingBytes"/> unless the whole input was read.</summary>
    public bool TryExpectEnd() => End || Fail(CodecError.TrailingBytes);
}

/// <summary>Rules for contract, procedure and type names.</summary>
public static class Names
{
    public static bool IsValid(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty) return false;
        foreach (byte b in name)
        {
            if (b < 0x21 || b > 0x7E) return false;
        }
        return true;
    }

    public static bool IsValid(string name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        foreach (char ch in name)
        {
            if (ch < 0x21 || ch > 0x7E) return false;
        }
        return true;
    }
}
