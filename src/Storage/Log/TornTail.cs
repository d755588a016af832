namespace Chainspace.Storage.Log;

/// <summary>
/// A torn tail: bytes from <see cref="Offset"/> of <see cref="File"/> on that were never acknowledged
/// (no later record vouches for them), dropped and zeroed.
/// </summary>
public sealed record TornTail(string File, long Offset, long Lsn, long BytesDropped, int IntactRecordsDropped, string Reason)
{
    public override string ToString() =>
        $"torn tail at '{File}' offset {Offset} (lsn {Lsn}): {Reason}; dropped {BytesDropped} byte(s)" +
        (IntactRecordsDropped > 0 ? $", including {IntactRecordsDropped} intact record(s) written after the tear and never flushed" : "");
}
