using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Chainspace.Core.Crypto;

/// <summary>
/// SHA-256 for the hot path. Written by hand because every replica hashes a dozen small preimages per
/// transaction (ids, votes, Merkle nodes) and the BCL's one-shot <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// costs ~470 ns for a 67-byte input on Linux, of which ~80 ns is hashing: it goes through OpenSSL 3's
/// EVP layer, which allocates a context, fetches the algorithm and clears the error queue on every call.
/// Calling OpenSSL's low-level SHA256_Init/Update/Final with a context on the stack is the same code
/// (SHA-NI where the CPU has it) without that overhead: ~100 ns for the same input
/// (bench: <c>HashingBenchmarks</c>).
///
/// Where libcrypto cannot be loaded (not Linux, a build without the deprecated low-level API), or when
/// <c>CHAINSPACE_SHA256=bcl</c> is set, every call goes to the BCL instead. Both give the same digests.
/// </summary>
public static unsafe class Sha256
{
    /// <summary>True when the low-level OpenSSL functions were found.</summary>
    internal static bool NativeAvailable => s_loaded is not null;

    /// <summary>SHA-256 of <paramref name="data"/> into the first 32 bytes of <paramref name="digest"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        if (s_native is { } native) native.Hash(data, default, digest);
        else SHA256.HashData(data, digest);
    }

    /// <summary>SHA-256 of <paramref name="first"/> ‖ <paramref name="second"/>, without copying them together.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> digest)
    {
        if (s_native is { } native) native.Hash(first, second, digest);
        else BclHash(first, second, digest);
    }

    /// <summary>The low-level OpenSSL path, whatever the process uses; for tests and benchmarks.</summary>
    internal static void HashNative(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> digest)
    {
        if (s_loaded is null) throw new PlatformNotSupportedException("libcrypto's SHA256_Init/Update/Final are not available");
        s_loaded.Hash(first, second, digest);
    }

    /// <summary>The BCL path, whatever the process uses; for tests and benchmarks.</summary>
    internal static void BclHash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> digest)
    {
        if (second.IsEmpty)
        {
            SHA256.HashData(first, digest);
            return;
        }
        int length = first.Length + second.Length;
        if (length <= BclStackBytesMax)
        {
            Span<byte> joined = stackalloc byte[BclStackBytesMax];
            first.CopyTo(joined);
            second.CopyTo(joined[first.Length..]);
            SHA256.HashData(joined[..length], digest);
            return;
        }
        var h = t_incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(first);
        h.AppendData(second);
        h.GetHashAndReset(digest);
    }

    // Below this, copying both parts together on the stack is cheaper than the BCL's incremental hash.
    private const int BclStackBytesMax = 1024;

    [ThreadStatic] private static IncrementalHash? t_incremental;

    private static readonly OpenSslLowLevel? s_loaded = OpenSslLowLevel.TryLoad();

    private static readonly OpenSslLowLevel? s_native =
        string.Equals(Environment.GetEnvironmentVariable("CHAINSPACE_SHA256"), "bcl", StringComparison.OrdinalIgnoreCase) ? null : s_loaded;

    private sealed class OpenSslLowLevel
    {
        // sizeof(SHA256_CTX) is 112 bytes in every OpenSSL since 0.9.8; the buffer leaves room to spare.
        private const int ContextBytes = 256;

        // Calls skip the GC transition (a GC waits for them to return), so each must stay short: longer inputs
        // go in slices of this size, ~2.5 µs each with SHA-NI.
        private const int SliceBytes = 4 * 1024;

        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, int> _init;
        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int> _update;
        private readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int> _final;

        private OpenSslLowLevel(nint init, nint update, nint final)
        {
            _init = (delegate* unmanaged[SuppressGCTransition]<byte*, int>)init;
            _update = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)update;
            _final = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int>)final;
        }

        public static OpenSslLowLevel? TryLoad()
        {
            // Linux only: it is where the BCL itself runs on OpenSSL (macOS and Windows use the OS's own crypto, and
            // macOS stops a process that loads its system libcrypto directly).
            string[] names = OperatingSystem.IsLinux() ? ["libcrypto.so.3", "libcrypto.so.1.1"] : [];
            foreach (string name in names)
            {
                if (!NativeLibrary.TryLoad(name, out nint lib)) continue;
                if (NativeLibrary.TryGetExport(lib, "SHA256_Init", out nint init)
                    && NativeLibrary.TryGetExport(lib, "SHA256_Update", out nint update)
                    && NativeLibrary.TryGetExport(lib, "SHA256_Final", out nint final))
                {
                    var candidate = new OpenSslLowLevel(init, update, final);
                    if (candidate.SelfTest()) return candidate;
                }
                NativeLibrary.Free(lib);
            }
            return null;
        }

        public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> digest)
        {
            if (digest.Length < 32) throw new ArgumentException("a SHA-256 digest needs 32 bytes", nameof(digest));
            byte* context = stackalloc byte[ContextBytes];
            if (_init(context) != 1) throw new CryptographicException("SHA256_Init failed");
            Update(context, first);
            Update(context, second);
            fixed (byte* d = digest)
            {
                if (_final(d, context) != 1) throw new CryptographicException("SHA256_Final failed");
            }
        }

        private void Update(byte* context, ReadOnlySpan<byte> data)
        {
            fixed (byte* p = data)
            {
                for (int offset = 0; offset < data.Length; offset += SliceBytes)
                {
                    int length = Math.Min(SliceBytes, data.Length - offset);
                    if (_update(context, p + offset, (nuint)length) != 1) throw new CryptographicException("SHA256_Update failed");
                }
            }
        }

        /// <summary>Refuses a library whose functions do not give the BCL's digest.</summary>
        private bool SelfTest()
        {
            Span<byte> input = stackalloc byte[200];
            for (int i = 0; i < input.Length; i++) input[i] = (byte)(i * 7 + 3);
            Span<byte> expected = stackalloc byte[32];
            Span<byte> actual = stackalloc byte[32];
            SHA256.HashData(input, expected);
            Hash(input[..77], input[77..], actual);
            return actual.SequenceEqual(expected);
        }
    }
}
