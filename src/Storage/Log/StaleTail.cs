namespace Chainspace.Storage.Log;

/// <summary>
/// The end of the records in a recycled segment: from <see cref="Offset"/> of <see cref="File"/> on, the segment holds
/// bytes from its previous use as segment <see cref="PreviousSegmentId"/> (or the start of a record this use never
/// finished flushing: the two look alike, and neither was acknowledged). Nothing there verifies; it is left in place
/// and overwritten by the next appends.
/// </summary>
public sealed record StaleTail(string File, long Offset, long Lsn, long PreviousSegmentId, string Reason)
{
    public override string ToString() =>
        $"end of records at '{File}' offset {Offset} (lsn {Lsn}): {Reason}; the rest of the segment holds bytes from its " +
        $"previous use as segment {PreviousSegmentId} (or an unflushed record a crash cut short), left in place";
}
