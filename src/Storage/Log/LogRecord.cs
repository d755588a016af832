namespace Chainspace.Storage.Log;

/// <summary>One record as a reader sees it: the payload aliases the mapped segment (valid until the segment is deleted).</summary>
public readonly ref struct LogRecord
{
    public LogRecord(long lsn, byte type, ulong sequence, ReadOnlySpan<byte> payload)
    {
        Lsn = lsn;
        Type = type;
        Sequence = sequence;
        Payload = payload;
    }

    public long Lsn { get; }
    public byte Type { get; }
    public ulong Sequence { get; }
    public ReadOnlySpan<byte> Payload { get; }
}
