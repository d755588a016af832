namespace Chainspace.Storage.Log;

/// <summary>How a log lays out and manages its segments. Validated once, when the log opens.</summary>
public sealed class LogOptions
{
    public static readonly LogOptions Default = new();

    /// <summary>Bytes per segment, a multiple of 4096 from 4 KiB to 1 GiB. Existing segments must match.</summary>
    public int SegmentSize { get; init; } = 64 << 20;

    /// <summary>
    /// How full the current segment is (0..1) before <see cref="AppendLog.Flush"/> creates the next one, so that
    /// appending never waits for a segment to be allocated.
    /// </summary>
    public double SpareThreshold { get; init; } = 0.5;

    /// <summary>
    /// How many segments <see cref="AppendLog.DeleteBefore"/> keeps as retired files instead of deleting them, for the
    /// log to reuse as its next segments (0: delete them, as before recycling existed). A reused segment's blocks are
    /// already written, so flushes into it cost less than into freshly reserved space (no unwritten-extent
    /// conversion: on ext4, a journal commit per fdatasync); each costs a segment of disk space while retired.
    /// </summary>
    public int RecycleSegments { get; init; } = 2;

    /// <summary>The most <see cref="RecycleSegments"/> may be.</summary>
    public const int MaxRecycleSegments = 64;

    internal void Validate()
    {
        if (SegmentSize < LogFormat.MinSegmentSize || SegmentSize > LogFormat.MaxSegmentSize || SegmentSize % 4096 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSize), SegmentSize, "segment size must be a multiple of 4096 between 4 KiB and 1 GiB");
        }
        if (RecycleSegments < 0 || RecycleSegments > MaxRecycleSegments) throw new ArgumentOutOfRangeException(nameof(RecycleSegments), RecycleSegments, $"must be within 0..{MaxRecycleSegments}");
        if (!(SpareThreshold >= 0 && SpareThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(SpareThreshold), SpareThreshold, "must be within 0..1");
    }
}
