namespace Chainspace.Storage.Log;

/// <summary>The outcome of checking one record position.</summary>
public enum RecordStatus : byte
{
    Valid,
    /// <summary>The header is all zero: nothing was ever written here.</summary>
    Empty,
    /// <summary>Less than a header is left in the segment.</summary>
    NoRoom,
    BadType,
    BadReserved,
    BadLength,
    BadChecksum,
    /// <summary>Intact, but its sequence number is below the previous record's (set by recovery, not by Check).</summary>
    BadOrder,
}
