namespace Chainspace.Storage.Devices;

/// <summary>
/// The narrow device under the append log (STYLE.md §5): a set of numbered, fixed-size segments.
/// A segment is created at its full size before use, so running out of space is an error at
/// <see cref="CreateSegment"/> and never a fault inside a later write. Implementations:
/// <see cref="MmapDevice"/> (files in a directory, memory-mapped), <see cref="MemoryDevice"/>
/// (a byte array per segment) and <see cref="FaultyDevice"/> (a seeded fault-injecting decorator).
/// A device is used by one log at a time; it is not thread-safe beyond what the log needs
/// (segment flushes may run on another thread than the writes into a segment's memory).
/// </summary>
public interface IStorageDevice : IDisposable
{
    /// <summary>Where the segments live, for messages (a directory, or "memory:name").</summary>
    string Location { get; }

    /// <summary>The ids of the segments that exist, ascending. Half-created segments are not listed.</summary>
    long[] ListSegments();

    /// <summary>
    /// Creates segment <paramref name="id"/> at <paramref name="length"/> bytes: zero but for its first bytes,
    /// which are <paramref name="header"/>; its space reserved, and its header and its existence durable
    /// (file and directory synced) before it returns, so a segment never exists without its header.
    /// Throws <see cref="StorageFullException"/> when the space cannot be reserved, and leaves no segment
    /// behind in that case.
    /// </summary>
    IStorageSegment CreateSegment(long id, int length, ReadOnlySpan<byte> header);

    /// <summary>
    /// Opens an existing segment. A segment shorter than <paramref name="length"/> (a truncated file) is
    /// extended back to it with zeros; the log's recovery then sees a torn tail, not a short mapping.
    /// </summary>
    IStorageSegment OpenSegment(long id, int length);

    /// <summary>Deletes a segment durably. The caller has disposed its handle.</summary>
    void DeleteSegment(long id);

    /// <summary>
    /// The ids of retired segments, ascending: segments taken out of the log by <see cref="RetireSegment"/> and kept,
    /// blocks and bytes, for <see cref="ReuseSegment"/>. They are not listed by <see cref="ListSegments"/>.
    /// </summary>
    long[] ListRetired();

    /// <summary>Takes segment <paramref name="id"/> out of the log durably but keeps its file for reuse. The caller has disposed its handle.</summary>
    void RetireSegment(long id);

    /// <summary>
    /// Makes retired segment <paramref name="retiredId"/> segment <paramref name="id"/>, with the crash safety of
    /// <see cref="CreateSegment"/>: the file leaves the retired set, gets <paramref name="header"/> as its first bytes
    /// (synced), and only then appears as segment <paramref name="id"/> (directory synced). Unlike a created segment,
    /// the bytes after the header are those of its previous use, not zeros. A crash part way leaves either the
    /// retired segment, or nothing (the file is then discarded as a half-created segment is), or segment
    /// <paramref name="id"/> with its new header. Throws <see cref="IOException"/> if the retired segment is not
    /// <paramref name="length"/> bytes; the caller should then delete it.
    /// </summary>
    IStorageSegment ReuseSegment(long retiredId, long id, int length, ReadOnlySpan<byte> header);

    /// <summary>Deletes a retired segment durably (a missing one is not an error).</summary>
    void DeleteRetired(long retiredId);

    /// <summary>The name a segment has in messages: a file path for file devices.</summary>
    string SegmentName(long id);
}

/// <summary>
/// One segment. Writes go into <see cref="GetWriteSpan"/> and are volatile until a <see cref="Flush"/> covering
/// them returns. <see cref="Read"/> sees every flushed byte and everything that was in the segment when it was
/// opened; whether it sees a write that is not flushed yet depends on the device (the log reads only what is
/// durable). Flush and Sync throw <see cref="IOException"/> on a device error.
/// </summary>
public interface IStorageSegment : IDisposable
{
    long Id { get; }
    string Name { get; }
    int Length { get; }

    /// <summary>Bytes [offset, offset + length) for reading, valid until the segment is disposed.</summary>
    ReadOnlySpan<byte> Read(int offset, int length);

    /// <summary>
    /// Room for bytes [offset, offset + length). Only what the caller writes there is defined; a flush of a range
    /// must cover only bytes written through this method since the segment was opened.
    /// </summary>
    Span<byte> GetWriteSpan(int offset, int length);

    /// <summary>Makes the bytes written into [offset, offset + length) durable.</summary>
    void Flush(int offset, int length);

    /// <summary>Makes everything the segment holds durable (what recovery read back may sit only in a cache).</summary>
    void Sync();

    /// <summary>A hint: nothing more will be written and everything written is flushed; write buffers can go.</summary>
    void EndWrites();
}
