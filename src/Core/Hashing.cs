using System.Security.Cryptography;

namespace Chainspace.Core;

/// <summary>
/// Domain-separated SHA-256. Every preimage starts with a one-byte domain tag, then the format version
/// and the algorithm byte, so an object id can never equal a trace id, a transaction id or a Merkle node
/// built from the same bytes.
/// </summary>
public static class Hashing
{
    public const HashAlgorithmId Algorithm = HashAlgorithmId.Sha256;

    /// <summary>Bytes that precede every preimage: domain tag, version, algorithm.</summary>
    public const int PrefixSize = 3;

    /// <summary>Hashes <paramref name="data"/> as is. Allocation free (one-shot BCL SHA-256).</summary>
    public static Hash256 Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Hash256.Size];
        SHA256.HashData(data, digest);
        return new Hash256(digest);
    }

    /// <summary>Writes the three prefix bytes of a preimage in the given domain.</summary>
    public static void WritePrefix(Span<byte> destination, HashDomain domain)
    {
        destination[0] = (byte)domain;
        destination[1] = FormatVersion.V1;
        destination[2] = (byte)Algorithm;
    }

    /// <summary>Inputs up to this size are copied behind the prefix on the stack and hashed in one shot.</summary>
    private const int StackPreimageBytesMax = 1024;

    [ThreadStatic] private static IncrementalHash? t_incremental;

    /// <summary>H(domain ‖ version ‖ algorithm ‖ data). Allocation free: small inputs are hashed in one shot
    /// from a stack copy, larger ones through a per-thread incremental hash.</summary>
    public static Hash256 Domain(HashDomain domain, ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Hash256.Size];
        if (data.Length <= StackPreimageBytesMax - PrefixSize)
        {
            Span<byte> preimage = stackalloc byte[StackPreimageBytesMax];
            WritePrefix(preimage, domain);
            data.CopyTo(preimage[PrefixSize..]);
            SHA256.HashData(preimage[..(PrefixSize + data.Length)], digest);
            return new Hash256(digest);
        }
        var h = t_incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> prefix = stackalloc byte[PrefixSize];
        WritePrefix(prefix, domain);
        h.AppendData(prefix);
        h.AppendData(data);
        h.GetHashAndReset(digest);
        return new Hash256(digest);
    }
}

/// <summary>Domain tags for hash preimages. Values are part of the format: never renumber.</summary>
public enum HashDomain : byte
{
    Object = (byte)'O',
    Trace = (byte)'T',
    Transaction = (byte)'X',
    Genesis = (byte)'G',
    MerkleLeaf = 0x00,
    MerkleNode = 0x01,
    CheckpointHead = (byte)'C',
    Batch = (byte)'B',
    Vote = (byte)'V',
    ContractMessage = (byte)'M',
    State = (byte)'S',
}
