using System.Runtime.InteropServices;

namespace Chainspace.Core.Memory;

/// <summary>
/// Large, long-lived buffers that are written once before they are read: pinned, uninitialized, and on Linux advised
/// for transparent huge pages. A node first-touches tens of MiB of them in its first minute (a batch body per slot of
/// the watermark window), and on the 2-core VMs we measure on a 4 KiB page fault costs 11–14 µs: 64 MiB took 180–230 ms
/// to touch with 4 KiB pages and 4–106 ms with <c>madvise(MADV_HUGEPAGE)</c> (THP is usually "madvise" only, so memory
/// nobody advises never gets huge pages). The advice is a hint: where it is refused or unsupported, nothing changes.
/// </summary>
public static unsafe partial class LargeBuffers
{
    private const int MadvHugePage = 14;          // Linux
    private const nint HugePageBytes = 2 << 20;   // x86-64 and arm64 (4 KiB base pages)

    /// <summary>A pinned, uninitialized array of <paramref name="length"/> bytes, advised for huge pages where possible.</summary>
    public static byte[] Allocate(int length) => Allocate<byte>(length);

    /// <summary>A pinned, uninitialized array of <paramref name="length"/> elements, advised for huge pages where possible.
    /// Its contents are whatever the memory held: callers write every element before they read it.</summary>
    public static T[] Allocate<T>(int length) where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(length, pinned: true);
        long bytes = (long)length * sizeof(T);
        if (OperatingSystem.IsLinux() && bytes >= HugePageBytes)
        {
            fixed (T* p = array)
            {
                // Only whole, aligned huge pages inside the array: madvise needs a page-aligned start, and the
                // advice must not reach memory the array does not own.
                nint start = ((nint)p + HugePageBytes - 1) & ~(HugePageBytes - 1);
                nint end = ((nint)p + (nint)bytes) & ~(HugePageBytes - 1);
                if (end > start) _ = Madvise((void*)start, (nuint)(end - start), MadvHugePage);
            }
        }
        return array;
    }

    /// <summary>As <see cref="Allocate{T}"/>, cleared: for tables that read empty entries as zero. The clear touches the
    /// memory after the advice, so it faults in huge pages, and random lookups later miss the TLB far less.</summary>
    public static T[] AllocateZeroed<T>(int length) where T : unmanaged
    {
        var array = Allocate<T>(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>An array of at least <paramref name="length"/> elements for scratch that grows with the state: a power of
    /// two (so growth is rare), from <see cref="Allocate{T}"/>.</summary>
    public static T[] AllocateScratch<T>(int length) where T : unmanaged =>
        Allocate<T>((int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 1)), (uint)Array.MaxLength));

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
