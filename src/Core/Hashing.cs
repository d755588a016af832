using Chainspace.Core.Crypto;

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

    /// <summary>Hashes <paramref name="data"/> as is. Allocation free.</summary>
    public static Hash256 Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Hash256.Size];
        Crypto.Sha256.Hash(data, digest);
        return new Hash256(digest);
    }

    /// <summary>Writes the three prefix bytes of a preimage in the given domain.</summary>
    public static void WritePrefix(Span<byte> destination, HashDomain domain)
    {
        destination[0] = (byte)domain;
        destination[1] = FormatVersion.V1;
        destination[2] = (byte)Algorithm;
    }

    /// <summary>H(domain ‖ version ‖ algorithm ‖ data). Allocation free; the prefix and the data are hashed
    /// in place, without copying them together.</summary>
    public static Hash256 Domain(HashDomain domain, ReadOnlySpan<byte> data)
    {
        Span<byte> prefix = stackalloc byte[PrefixSize];
        WritePrefix(prefix, domain);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        Crypto.Sha256.Hash(prefix, data, digest);
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
