using NSec.Cryptography;

namespace Chainspace.Core.Crypto;

/// <summary>An Ed25519 public key (NSec): 32 raw bytes, imported once and reused for every verify.</summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    public const int Size = 32;
    public const int SignatureSize = 64;

    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly PublicKey _key;
    private readonly byte[] _bytes;

    private Ed25519PublicKey(PublicKey key, byte[] bytes)
    {
        _key = key;
        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Imports raw key bytes; false if they are not a valid Ed25519 point encoding.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> bytes, out Ed25519PublicKey? key)
    {
        key = null;
        if (bytes.Length != Size) return false;
        if (!PublicKey.TryImport(Algorithm, bytes, KeyBlobFormat.RawPublicKey, out var imported) || imported is null) return false;
        key = new Ed25519PublicKey(imported, bytes.ToArray());
        return true;
    }

    public static Ed25519PublicKey Create(ReadOnlySpan<byte> bytes) =>
        TryCreate(bytes, out var key) ? key! : throw new ArgumentException("not a valid Ed25519 public key", nameof(bytes));

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureSize && Algorithm.Verify(_key, data, signature);

    /// <summary>Verify against raw key bytes (imports the key: allocates; cache keys you reuse).</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        TryCreate(publicKey, out var key) && key!.Verify(data, signature);

    public bool Equals(Ed25519PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);
    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);
    public override string ToString() => Convert.ToHexStringLower(_bytes);
}

/// <summary>An Ed25519 signing key (NSec). Dispose it when done: NSec keeps it in protected memory.</summary>
public sealed class Ed25519KeyPair : IDisposable
{
    public const int PrivateKeySize = 32;
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private Ed25519KeyPair(Key key)
    {
        _key = key;
        PublicKey = Ed25519PublicKey.Create(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public Ed25519PublicKey PublicKey { get; }

    public static Ed25519KeyPair Generate() =>
        new(Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>From a 32-byte seed (the raw private key), e.g. a key file or a deterministic test seed.</summary>
    public static Ed25519KeyPair FromPrivateKey(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != PrivateKeySize) throw new ArgumentException($"an Ed25519 private key is {PrivateKeySize} bytes", nameof(seed));
        var key = Key.Import(Algorithm, seed, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new Ed25519KeyPair(key);
    }

    public byte[] ExportPrivateKey() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature) => Algorithm.Sign(_key, data, signature[..Ed25519PublicKey.SignatureSize]);

    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        var signature = new byte[Ed25519PublicKey.SignatureSize];
        Sign(data, signature);
        return signature;
    }

    public void Dispose() => _key.Dispose();
}
