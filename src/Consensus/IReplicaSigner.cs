using System.Security.Cryptography;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;

namespace Chainspace.Consensus;

/// <summary>
/// Signs as this replica and verifies the other replicas of the shard (by index). Behind an interface so
/// the node uses Ed25519 from the cluster configuration while the simulator uses a cheap deterministic
/// scheme. Signatures are always <see cref="SignatureSize"/> bytes on the wire.
/// </summary>
public interface IReplicaSigner
{
    public const int SignatureSize = 64;

    void Sign(ReadOnlySpan<byte> data, Span<byte> signature);
    bool Verify(int replica, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);
}

/// <summary>Ed25519 (NSec) against the public keys of <see cref="ClusterConfig"/>: what a node uses, and
/// what makes view-change, new-view and checkpoint proofs convincing to any third party.</summary>
public sealed class Ed25519ReplicaSigner : IReplicaSigner
{
    private readonly Ed25519PublicKey[] _keys;
    private readonly Ed25519KeyPair? _own;

    /// <param name="own">This replica's key pair; null for a verify-only instance (a client or auditor).</param>
    public Ed25519ReplicaSigner(ShardConfig shard, Ed25519KeyPair? own)
    {
        _keys = new Ed25519PublicKey[shard.N];
        for (int i = 0; i < shard.N; i++) _keys[i] = shard.Replicas[i].PublicKey;
        _own = own;
    }

    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature)
    {
        if (_own is null) throw new InvalidOperationException("this signer has no private key");
        _own.Sign(data, signature);
    }

    public bool Verify(int replica, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        (uint)replica < (uint)_keys.Length && signature.Length == IReplicaSigner.SignatureSize && _keys[replica].Verify(data, signature);
}

/// <summary>
/// HMAC-SHA-256 with one secret per replica, for the simulator and fast tests: deterministic and about a
/// microsecond per operation. Every instance can verify everyone, but signs only as <c>self</c>; the
/// simulator hands Byzantine replicas an instance for their own index only, so within a simulation a
/// signature is as unforgeable as Ed25519. Not for production: a verifier here could also sign.
/// </summary>
public sealed class KeyedHashSigner : IReplicaSigner
{
    private readonly byte[][] _secrets;
    private readonly int _self;

    public KeyedHashSigner(ReadOnlySpan<byte> seed, int replicas, int self)
    {
        _secrets = new byte[replicas][];
        Span<byte> preimage = stackalloc byte[seed.Length + 4];
        seed.CopyTo(preimage);
        for (int i = 0; i < replicas; i++)
        {
            preimage[seed.Length] = (byte)i;
            preimage[seed.Length + 1] = (byte)(i >> 8);
            preimage[seed.Length + 2] = 0x5E;
            preimage[seed.Length + 3] = 0xC7;
            _secrets[i] = Hashing.Sha256(preimage).ToArray();
        }
        _self = self;
    }

    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature) => Compute(_self, data, signature);

    public bool Verify(int replica, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if ((uint)replica >= (uint)_secrets.Length || signature.Length != IReplicaSigner.SignatureSize) return false;
        Span<byte> expected = stackalloc byte[IReplicaSigner.SignatureSize];
        Compute(replica, data, expected);
        return CryptographicOperations.FixedTimeEquals(expected, signature);
    }

    private void Compute(int replica, ReadOnlySpan<byte> data, Span<byte> signature)
    {
        HMACSHA256.HashData(_secrets[replica], data, signature[..32]);
        signature[32..IReplicaSigner.SignatureSize].Clear();
    }
}
