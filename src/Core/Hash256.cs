using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Chainspace.Core;

/// <summary>
/// A 32-byte digest (object, trace, transaction, batch ids). The algorithm that produced it is not
/// stored here: every persisted or wire format that carries hashes names it once, in a header byte
/// (<see cref="HashAlgorithmId"/>), so a digest is always read in the context of its format.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = Size)]
public readonly struct Hash256 : IEquatable<Hash256>, IComparable<Hash256>
{
    public const int Size = 32;

    // Four big-endian limbs: _a holds bytes 0..7. Equality and ordering compare limbs, which is
    // the same order as comparing the bytes lexicographically.
    private readonly ulong _a, _b, _c, _d;

    public static readonly Hash256 Zero = default;

    public Hash256(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) ThrowWrongLength(bytes.Length);
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public static Hash256 Read(ReadOnlySpan<byte> source) => new(source[..Size]);

    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size) ThrowWrongLength(destination.Length);
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>
    /// The digest read as an unsigned 256-bit big-endian integer, reduced modulo <paramref name="modulus"/>.
    /// This is the integer the shard map φ(o) = id(o) mod K uses (see <see cref="ShardMap"/>).
    /// </summary>
    public uint Mod(uint modulus)
    {
        if (modulus == 0) throw new ArgumentOutOfRangeException(nameof(modulus), "modulus must be positive");
        // Horner's rule over 32-bit halves: r = (r * 2^32 + half) mod K. r < K < 2^32, so every step fits
        // in 64 bits: eight 64-bit remainders instead of four 128-bit divisions (this runs for every object
        // of every transaction, on every replica).
        ulong r = 0;
        r = Step(Step(r, _a >> 32, modulus), _a & uint.MaxValue, modulus);
        r = Step(Step(r, _b >> 32, modulus), _b & uint.MaxValue, modulus);
        r = Step(Step(r, _c >> 32, modulus), _c & uint.MaxValue, modulus);
        r = Step(Step(r, _d >> 32, modulus), _d & uint.MaxValue, modulus);
        return (uint)r;

        static ulong Step(ulong remainder, ulong half, uint m) => ((remainder << 32) | half) % m;
    }

    /// <summary>The first 8 bytes as a number: well mixed, cheap, used for hash tables.</summary>
    public ulong Prefix64 => _a;

    public bool Equals(Hash256 other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is Hash256 other && Equals(other);
    public override int GetHashCode() => (int)(_a ^ (_a >> 32));
    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);
    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);

    public int CompareTo(Hash256 other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Short form for logs: the first 8 hex digits.</summary>
    public string ToShortString() => ToString()[..8];

    public static Hash256 Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Size * 2) throw new FormatException($"a Hash256 is {Size * 2} hex digits, got {hex.Length}");
        return new Hash256(Convert.FromHexString(hex));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongLength(int length) =>
        throw new ArgumentException($"a Hash256 needs {Size} bytes, got {length}");
}
