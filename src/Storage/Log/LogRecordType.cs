namespace Chainspace.Storage.Log;

/// <summary>
/// Record types. Callers use 1..<see cref="MaxUser"/>; the log reserves the rest for itself and its
/// readers skip them. 0 never appears in a valid record (a zero header is empty space).
/// </summary>
public static class LogRecordType
{
    public const byte MaxUser = 0xEF;

    /// <summary>Ends a segment early: the next record did not fit, it is at the start of the next segment.</summary>
    public const byte Padding = 0xF0;

    /// <summary>Written by a clean close: its vouch covers every record before it.</summary>
    public const byte Seal = 0xF1;

    public static bool IsUser(byte type) => type is >= 1 and <= MaxUser;
}
