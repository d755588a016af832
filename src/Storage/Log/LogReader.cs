using Chainspace.Core;

namespace Chainspace.Storage.Log;

/// <summary>
/// Iterates records from an LSN to the durable end as it was when the reader was made, zero-copy: each
/// <see cref="LogRecord.Payload"/> aliases the mapped segment. Every record's checksum is verified again,
/// so a wrong starting LSN or memory damaged since open is caught, not read. Skips the log's own records.
/// Use with <c>foreach</c> or <see cref="TryRead"/>.
/// </summary>
public ref struct LogReader
{
    private readonly AppendLog _log;
    private readonly long _end;
    private readonly ulong _minSequence;
    private long _position;
    private LogRecord _current;

    internal LogReader(AppendLog log, long from, long end, ulong minSequence)
    {
        if (from < log.FirstLsn || from > end) throw new ArgumentOutOfRangeException(nameof(from), from, $"lsn outside the log ({log.FirstLsn}..{end})");
        _log = log;
        _position = from;
        _end = end;
        _minSequence = minSequence;
        _current = default;
    }

    public readonly LogRecord Current => _current;

    public readonly LogReader GetEnumerator() => this;

    public bool MoveNext() => TryRead(out _current);

    public bool TryRead(out LogRecord record)
    {
        int segmentSize = _log.SegmentSize;
        while (_position < _end)
        {
            var segment = _log.SegmentAt(_position);
            int offset = (int)(_position - segment.BaseLsn);
            if (offset < LogFormat.SegmentHeaderSize)
            {
                // A record ended exactly at the end of the previous segment.
                _position = segment.BaseLsn + LogFormat.SegmentHeaderSize;
                continue;
            }
            ReadOnlySpan<byte> bytes = segment.Storage.Read(0, segmentSize);
            var status = LogFormat.Check(bytes, offset, _position, out var info);
            if (status is RecordStatus.NoRoom or RecordStatus.Empty || (status == RecordStatus.Valid && info.Type == LogRecordType.Padding))
            {
                _position = segment.BaseLsn + segmentSize + LogFormat.SegmentHeaderSize;
                continue;
            }
            if (status != RecordStatus.Valid) throw new LogCorruptionException(segment.Name, offset, $"record at lsn {_position} does not verify ({status}) while reading (a start lsn that is not a record's, or memory damaged since open)", atOpen: false);
            Invariant.Check(_position + info.Size <= _end);
            long lsn = _position;
            _position += info.Size;
            if (!LogRecordType.IsUser(info.Type) || info.Sequence < _minSequence) continue;
            record = new LogRecord(lsn, info.Type, info.Sequence, bytes.Slice(offset + LogFormat.RecordHeaderSize, info.PayloadLength));
            return true;
        }
        record = default;
        return false;
    }
}
