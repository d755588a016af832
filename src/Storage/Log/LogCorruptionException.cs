namespace Chainspace.Storage.Log;

/// <summary>
/// The log holds damaged data that it had acknowledged as durable (or a segment is missing or foreign),
/// so it refuses to open rather than discard it. <see cref="File"/> and <see cref="Offset"/> say where.
/// </summary>
public sealed class LogCorruptionException : IOException
{
    public LogCorruptionException(string file, long offset, string reason, bool atOpen = true)
        : base($"log corrupted: '{file}' at offset {offset}: {reason}." +
            (atOpen ? " Refusing to open; repair the segment from a peer or restore it." : ""))
    {
        File = file;
        Offset = offset;
        Reason = reason;
    }

    public string File { get; }
    public long Offset { get; }
    public string Reason { get; }
}
