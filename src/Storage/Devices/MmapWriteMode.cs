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
    /// Appends copy into a private write buffer of the segment (allocated on the first write, dropped once the
    /// segment is complete and flushed); a flush is one pwrite of the dirty range into the preallocated file
    /// plus fdatasync. The mapping is read-only, so writeback never has to touch page tables.
    /// </summary>
    Buffered,
}
