namespace Chainspace.Storage.Devices;

/// <summary>How an <see cref="MmapDevice"/> segment takes writes. Reads are always zero-copy from the file mapping.</summary>
public enum MmapWriteMode : byte
{
    /// <summary>
    /// Appends copy straight into the shared file mapping; a flush is msync(MS_SYNC) of the dirty range.
    /// Every page written this way costs a write fault, and its writeback has to write-protect the page again.
    /// </summary>
    Mapped,

    /// <summary>
    /// The default. Appends copy into a staging window of the segment (<see cref="MmapDevice.StageSize"/> bytes,
    /// pooled by the device, so it stays in the CPU caches); a flush is one pwrite of the bytes appended since the
    /// last one into the preallocated file, plus fdatasync. A record that does not fit the window first pwrites the
    /// staged bytes no flush has written (no sync: the next flush makes them durable) and moves the window to
    /// itself. The mapping is read-only, so writeback never has to touch page tables.
    /// <para>
    /// Why the default (measured on the 2-core VM, ext4 on virtio, while other builds loaded it, so judge ratios):
    /// a loop of 600 MB of 4 KiB records with a flush every 1024, run alternately with the FileStream + fsync
    /// baseline, gave 365-507 MB/s here against 294-431 MB/s for the baseline; with 64 B and 256 B records the
    /// flush's sync dominates and the two were within noise of each other (64 B: 21-92 against 18-48 MB/s).
    /// <see cref="Mapped"/> was 1.5-4.7x slower than the baseline in the same BenchmarkDotNet runs: a write fault
    /// per page written, and each msync write-protects the pages again. The earlier whole-segment write buffer
    /// was 1.0-2.1x slower: appends streamed through 64 MiB of memory that the pwrite then read back from DRAM.
    /// </para>
    /// </summary>
    Buffered,
}
