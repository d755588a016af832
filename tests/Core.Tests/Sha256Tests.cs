using System.Security.Cryptography;
using Chainspace.Core.Crypto;
using CsCheck;

namespace Chainspace.Core.Tests;

public class Sha256Tests
{
    // OpenSSL ships with every Linux .NET runs on (the BCL's own crypto needs it), so on Linux the fast path
    // must load: if it silently fell back, every replica would be several times slower at hashing.
    [Fact]
    public void OnLinux_TheLowLevelOpenSslPathLoads()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(Crypto.Sha256.NativeAvailable);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(119)]
    [InlineData(1021)]
    [InlineData(4 * 1024 - 1)]
    [InlineData(4 * 1024)]
    [InlineData(4 * 1024 + 1)]
    [InlineData(16 * 1024 - 1)]
    [InlineData(16 * 1024)]
    [InlineData(16 * 1024 + 1)]
    [InlineData(100_000)]
    public void EveryPath_GivesTheBclDigest_AtBlockAndSliceBoundaries(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var expected = SHA256.HashData(data);
        foreach (int cut in new[] { 0, length / 3, length })
        {
            AssertAllPaths(expected, data.AsSpan(0, cut), data.AsSpan(cut));
        }
    }

    [Fact]
    public void EveryPath_GivesTheBclDigest_ForRandomInputsAndSplits()
    {
        Gen.Byte.Array[0, 3000].SelectMany(a => Gen.Int[0, a.Length].Select(cut => (a, cut))).Sample(t =>
        {
            var expected = SHA256.HashData(t.a);
            AssertAllPaths(expected, t.a.AsSpan(0, t.cut), t.a.AsSpan(t.cut));
        }, iter: 500);
    }

    [Fact]
    public void DomainHash_IsShaOfPrefixThenData()
    {
        var data = new byte[300];
        new Random(7).NextBytes(data);
        var preimage = new byte[Hashing.PrefixSize + data.Length];
        Hashing.WritePrefix(preimage, HashDomain.Batch);
        data.CopyTo(preimage, Hashing.PrefixSize);
        Assert.Equal(new Hash256(SHA256.HashData(preimage)), Hashing.Domain(HashDomain.Batch, data));
        Assert.Equal(new Hash256(SHA256.HashData(data)), Hashing.Sha256(data));
    }

    [Fact]
    public void ShortDigestBuffer_IsRefused()
    {
        var small = new byte[31];
        Assert.ThrowsAny<ArgumentException>(() => Crypto.Sha256.Hash(new byte[10], small));
    }

    private static void AssertAllPaths(byte[] expected, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Span<byte> digest = stackalloc byte[32];
        Crypto.Sha256.Hash(first, second, digest);
        Assert.True(digest.SequenceEqual(expected), "Sha256.Hash(first, second)");
        Crypto.Sha256.BclHash(first, second, digest);
        Assert.True(digest.SequenceEqual(expected), "BclHash");
        if (Crypto.Sha256.NativeAvailable)
        {
            digest.Clear();
            Crypto.Sha256.HashNative(first, second, digest);
            Assert.True(digest.SequenceEqual(expected), "HashNative");
        }
        if (second.IsEmpty)
        {
            digest.Clear();
            Crypto.Sha256.Hash(first, digest);
            Assert.True(digest.SequenceEqual(expected), "Sha256.Hash(data)");
        }
    }
}
