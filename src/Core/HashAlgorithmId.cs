namespace Chainspace.Core;

/// <summary>
/// The hash-algorithm byte that every hashed format carries after its version byte.
/// Only SHA-256 is implemented; BLAKE3 has a reserved value so it can be added without a format break.
/// </summary>
public enum HashAlgorithmId : byte
{
    Sha256 = 1,
    /// <summary>Reserved. Decoders reject it until an implementation exists.</summary>
    Blake3 = 2,
}

/// <summary>Versions of our binary formats. A decoder rejects every value it does not know.</summary>
public static class FormatVersion
{
    /// <summary>Version 1 of the transaction, object and id formats.</summary>
    public const byte V1 = 1;
}
