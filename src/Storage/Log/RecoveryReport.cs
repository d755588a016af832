using System.Text;

namespace Chainspace.Storage.Log;

/// <summary>What opening a log found, and precisely what it dropped.</summary>
public sealed class RecoveryReport
{
    public required string Location { get; init; }
    public bool CreatedNew { get; init; }
    public int SegmentCount { get; init; }
    public long RecordCount { get; init; }
    public long FirstLsn { get; init; }
    public long TailLsn { get; init; }
    public ulong? LastSequence { get; init; }

    /// <summary>The torn tail that was cut off, or null when the log ended cleanly.</summary>
    public TornTail? TornTail { get; init; }

    /// <summary>
    /// Where the records of a recycled tail segment end, with bytes from the segment's previous use (or an unflushed
    /// record cut short by a crash) after them, left in place; null when the log ends in zeros or in a torn tail.
    /// </summary>
    public StaleTail? StaleTail { get; init; }

    /// <summary>Retired segments kept for reuse.</summary>
    public int RetiredSegments { get; init; }

    /// <summary>
    /// Segments after the tail that were deleted or emptied (they held only unacknowledged bytes, or nothing), and
    /// retired segments deleted (beyond <see cref="LogOptions.RecycleSegments"/>, or left by an earlier log).
    /// </summary>
    public IReadOnlyList<string> DiscardedSegments { get; init; } = [];

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CreatedNew ? "created new log at " : "recovered log at ").Append(Location)
            .Append(": ").Append(SegmentCount).Append(" segment(s), ").Append(RecordCount).Append(" record(s), lsn ")
            .Append(FirstLsn).Append("..").Append(TailLsn);
        if (LastSequence is { } last) text.Append(", last sequence ").Append(last);
        if (TornTail is { } torn) text.Append("; ").Append(torn);
        if (StaleTail is { } stale) text.Append("; ").Append(stale);
        if (RetiredSegments > 0) text.Append("; ").Append(RetiredSegments).Append(" retired segment(s) kept for reuse");
        if (DiscardedSegments.Count > 0) text.Append("; discarded ").Append(string.Join(", ", DiscardedSegments));
        return text.ToString();
    }
}
