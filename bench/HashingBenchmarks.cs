using BenchmarkDotNet.Attributes;
using Chainspace.Core.Crypto;

namespace Chainspace.Bench;

/// <summary>
/// SHA-256 through the BCL (OpenSSL's EVP layer, one call per digest) against the low-level OpenSSL
/// path <see cref="Sha256"/> uses, at the sizes the replicas hash: a Merkle node (67 B), a vote statement
/// (~120 B), a transaction id preimage (~300 B) and a PBFT batch body (16 KiB). The baseline is the BCL.
/// </summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    [Params(67, 120, 300, 16 * 1024)]
    public int Bytes { get; set; }

    private byte[] _data = null!;
    private readonly byte[] _digest = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Bytes];
        new Random(Bytes).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public void Bcl() => System.Security.Cryptography.SHA256.HashData(_data, _digest);

    [Benchmark]
    public void OpenSslLowLevel() => Sha256.HashNative(_data, default, _digest);
}
