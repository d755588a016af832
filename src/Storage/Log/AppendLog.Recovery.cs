using System.Security.Cryptography;
using Chainspace.Core;
using Chainspace.Storage.Devices;

namespace Chainspace.Storage.Log;

/// <summary>
/// Opening a log: scan every segment, verify every record, and decide what a bad record means.
/// <para>
/// The scan stops at the first position P that does not hold a valid record in order. Everything from P on
/// is then examined. If it is all zero, P is simply the end. Otherwise the bytes after P are searched for
/// intact records. An intact record whose vouch (the durable LSN when it was appended) is above P proves that
/// P had been flushed, i.e. acknowledged: that is corruption, and the log refuses to open, naming the file
/// and offset. Without such proof the bytes from P on were never acknowledged (a torn write, or pages of an
/// unflushed region written back out of order before a crash): they are zeroed and reported as a torn tail.
/// </para>
/// <para>
/// The proof needs a later record: a clean close writes a seal record for that purpose. After a crash, the
/// records of the last flush before it have no later record to vouch for them; damage there that is not a
/// crash tear (bit rot within the same crash window) is reported as a torn tail. That is the one double
/// fault this scheme cannot tell apart.
/// </para>
/// <para>
/// Recycled segments (header version 2, see <see cref="LogOptions.RecycleSegments"/>) do not read as zero after
/// their records: they hold the bytes of their file's previous use. None of those can verify: a record's checksum
/// is seeded with its LSN, a recycled file only ever gets a higher id than it had (retired ids are below every
/// log segment's, and a new log deletes the retired files it finds), so no old record sits at its own LSN again.
/// Hence the rule: in a recycled segment, the first position that does not verify is the end of the log, unless
/// an intact record of this life (any intact record: only this life's verify) lies after it. If such a record
/// vouches past the break, the break is corruption, exactly as above. If intact records lie after it but none
/// vouches past it, the break is a torn tail (writes after it reached the media out of order and were never
/// flushed): those records are dropped, their headers zeroed durably so they can never reappear after later
/// appends, and the report counts their bytes. Otherwise nothing after the break was written in this life, or a
/// record was cut short by a crash before its flush; the two cannot be told apart, and neither was acknowledged.
/// That end is reported as <see cref="RecoveryReport.StaleTail"/>, not as a torn tail, and its bytes stay (no 64 MB
/// of zeros at open): the next appends overwrite them. Finding the intact records costs one pass over the rest of
/// the segment at open. Fresh segments keep the rule above (their non-zero bytes after the break are this life's).
/// </para>
/// </summary>
public sealed partial class AppendLog
{
    public static AppendLog Open(IStorageDevice device, LogOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= LogOptions.Default;
        options.Validate();
        long[] ids = device.ListSegments();
        return ids.Length == 0 ? CreateNew(device, options) : Recover(device, options, ids);
    }

    private static AppendLog CreateNew(IStorageDevice device, LogOptions options)
    {
        // Retired files of a log that no longer exists: their old ids could be this log's ids, so they are never reused.
        var discarded = new List<string>();
        foreach (long retired in device.ListRetired())
        {
            device.DeleteRetired(retired);
            discarded.Add($"retired segment {retired} of an earlier log (deleted)");
        }
        ulong logId = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
        LogFormat.WriteSegmentHeader(header, 0, options.SegmentSize, logId);
        var storage = device.CreateSegment(0, options.SegmentSize, header);
        var log = new AppendLog(device, options, logId, [new LogSegment(storage, 0)], LogFormat.SegmentHeaderSize, []);
        log._sealedAt = log._tailLsn;
        log.Recovery = new RecoveryReport
        {
            Location = device.Location,
            CreatedNew = true,
            SegmentCount = 1,
            FirstLsn = LogFormat.SegmentHeaderSize,
            TailLsn = log._tailLsn,
            DiscardedSegments = discarded,
        };
        return log;
    }

    private static AppendLog Recover(IStorageDevice device, LogOptions options, long[] ids)
    {
        for (int i = 1; i < ids.Length; i++)
        {
            if (ids[i] != ids[i - 1] + 1)
            {
                throw new LogCorruptionException(device.SegmentName(ids[i - 1] + 1), 0, $"segment {ids[i - 1] + 1} is missing between segments {ids[i - 1]} and {ids[i]}");
            }
        }
        var segments = new List<LogSegment>(ids.Length);
        try
        {
            ulong logId = OpenSegments(device, options, ids, segments);
            var scan = new RecoveryScan(segments, options.SegmentSize);
            scan.Run();
            return scan.Finish(device, options, logId);
        }
        catch
        {
            foreach (var segment in segments) segment.Storage.Dispose();
            throw;
        }
    }

    private static ulong OpenSegments(IStorageDevice device, LogOptions options, long[] ids, List<LogSegment> segments)
    {
        ulong logId = 0;
        foreach (long id in ids)
        {
            var storage = device.OpenSegment(id, options.SegmentSize);
            string? problem = LogFormat.CheckSegmentHeader(storage.Read(0, LogFormat.SegmentHeaderSize), id, options.SegmentSize, out ulong segmentLogId, out long previousId);
            segments.Add(new LogSegment(storage, id * options.SegmentSize, previousId));
            if (problem != null) throw new LogCorruptionException(storage.Name, 0, problem);
            if (segments.Count == 1) logId = segmentLogId;
            else if (segmentLogId != logId) throw new LogCorruptionException(storage.Name, 0, $"segment belongs to another log (log id {segmentLogId:x16}, expected {logId:x16})");
        }
        return logId;
    }

    /// <summary>One pass over the segments at open; see the class remarks for the rules.</summary>
    private sealed class RecoveryScan(List<LogSegment> segments, int segmentSize)
    {
        private long _records;
        private ulong _lastSequence;
        private bool _hasRecords;
        private bool _lastWasSeal;
        private int _tailIndex;           // segment holding the tail
        private int _tailOffset;          // offset of the tail in it
        private RecordStatus _breakStatus = RecordStatus.Empty;
        private TornTail? _torn;
        private StaleTail? _stale;
        private readonly List<string> _discarded = new();
        private readonly List<(int Segment, int Offset, int Size)> _intactInRecycled = new();   // this life's records after the break

        public void Run()
        {
            for (int i = 0; i < segments.Count; i++)
            {
                if (!ScanSegment(i)) return;
            }
            // Every segment ended with padding or a full tail: the next record goes into a new segment.
            _tailIndex = segments.Count - 1;
            _tailOffset = segmentSize;
        }

        /// <summary>Returns true when the segment ended in an orderly way (padding, or no room left).</summary>
        private bool ScanSegment(int index)
        {
            var segment = segments[index];
            ReadOnlySpan<byte> bytes = segment.Storage.Read(0, segmentSize);
            int offset = LogFormat.SegmentHeaderSize;
            while (true)
            {
                var status = LogFormat.Check(bytes, offset, segment.BaseLsn + offset, out var record);
                if (status == RecordStatus.NoRoom) return true;
                if (status == RecordStatus.Valid && _hasRecords && record.Sequence < _lastSequence) status = RecordStatus.BadOrder;
                if (status != RecordStatus.Valid)
                {
                    _tailIndex = index;
                    _tailOffset = offset;
                    _breakStatus = status;
                    ExamineTail();
                    return false;
                }
                if (record.Type == LogRecordType.Padding)
                {
                    _lastWasSeal = false;
                    return true;
                }
                _lastWasSeal = record.Type == LogRecordType.Seal;
                if (!_lastWasSeal)
                {
                    segment.Note(record.Sequence);
                    _records++;
                }
                _lastSequence = record.Sequence;
                _hasRecords = true;
                offset += record.Size;
            }
        }

        /// <summary>Decides whether the break at the tail is the end, a torn tail, or corruption (class remarks).</summary>
        private void ExamineTail()
        {
            var tail = segments[_tailIndex];
            long breakLsn = tail.BaseLsn + _tailOffset;
            long dirtyBytes = 0;   // in fresh segments: bytes this life wrote after the break
            bool recycled = false;
            for (int i = _tailIndex; i < segments.Count; i++)
            {
                if (segments[i].Recycled)
                {
                    recycled = true;   // bytes of the previous use are no evidence either way
                    continue;
                }
                int start = i == _tailIndex ? _tailOffset : LogFormat.SegmentHeaderSize;
                var rest = segments[i].Storage.Read(start, segmentSize - start);
                int last = rest.LastIndexOfAnyExcept((byte)0);
                if (last >= 0) dirtyBytes += last + 1;   // from the break (or the segment's first record) to the last written byte
            }
            if (dirtyBytes == 0 && !recycled) return;   // nothing was ever written past the end

            int intact = 0;
            for (int i = _tailIndex; i < segments.Count; i++)
            {
                int start = i == _tailIndex ? _tailOffset + LogFormat.Alignment : LogFormat.SegmentHeaderSize;
                if (FindVouchingRecord(i, start, breakLsn, ref intact) is { } proof)
                {
                    throw new LogCorruptionException(tail.Name, _tailOffset,
                        $"{Describe(_breakStatus)}, but the intact record at '{segments[i].Name}' offset {proof.Offset} " +
                        $"was appended after the log had been flushed to lsn {proof.Vouch} > {breakLsn}, so this record was acknowledged");
                }
            }
            long intactRecycledBytes = 0;
            foreach (var record in _intactInRecycled) intactRecycledBytes += record.Size;
            if (dirtyBytes == 0 && intact == 0)
            {
                Invariant.Check(recycled);
                int stale = tail.Recycled ? tail.Storage.Read(_tailOffset, segmentSize - _tailOffset).LastIndexOfAnyExcept((byte)0) + 1 : 0;
                if (stale > 0) _stale = new StaleTail(tail.Name, _tailOffset, breakLsn, tail.PreviousId, Describe(_breakStatus));
                return;
            }
            string reason = Describe(_breakStatus) + (tail.Recycled ? " in a recycled segment, with intact records of this segment's current use after it" : "");
            _torn = new TornTail(tail.Name, _tailOffset, breakLsn, dirtyBytes + intactRecycledBytes, intact, reason);
        }

        /// <summary>
        /// Searches 8-aligned positions of segment <paramref name="index"/> from <paramref name="start"/> for an intact
        /// record vouching past <paramref name="breakLsn"/>; counts the intact ones, and notes those in recycled segments.
        /// </summary>
        private (int Offset, long Vouch)? FindVouchingRecord(int index, int start, long breakLsn, ref int intact)
        {
            var segment = segments[index];
            ReadOnlySpan<byte> bytes = segment.Storage.Read(0, segmentSize);
            int offset = start;
            while (offset <= segmentSize - LogFormat.RecordHeaderSize)
            {
                int skip = bytes[offset..].IndexOfAnyExcept((byte)0);
                if (skip < 0) break;
                offset += skip & ~(LogFormat.Alignment - 1);
                if (LogFormat.Check(bytes, offset, segment.BaseLsn + offset, out var record) == RecordStatus.Valid)
                {
                    intact++;
                    if (record.Vouch > breakLsn) return (offset, record.Vouch);
                    if (segment.Recycled) _intactInRecycled.Add((index, offset, record.Size));
                    offset += record.Size;
                }
                else
                {
                    offset += LogFormat.Alignment;
                }
            }
            return null;
        }

        public AppendLog Finish(IStorageDevice device, LogOptions options, ulong logId)
        {
            if (_torn != null) ZeroTail();
            // Segments after the tail hold nothing acknowledged: keep the next one (emptied) as the spare.
            LogSegment? spare = null;
            for (int i = segments.Count - 1; i > _tailIndex; i--)
            {
                var segment = segments[i];
                segments.RemoveAt(i);
                if (i == _tailIndex + 1)
                {
                    spare = segment;
                    continue;
                }
                segment.Storage.Dispose();
                device.DeleteSegment(segment.Id);
                _discarded.Add(segment.Name + " (deleted)");
            }
            // What was read back may still sit only in the page cache (after a process crash): make it durable
            // before any new record can vouch for it.
            for (int i = 0; i <= _tailIndex; i++)
            {
                segments[i].Storage.Sync();
                if (i < _tailIndex) segments[i].Storage.EndWrites();
            }

            var retired = KeepRetired(device, options, segments[0].Id);
            var log = new AppendLog(device, options, logId, segments, _tailOffset, retired);
            log._spare = spare;
            log._lastSequence = _lastSequence;
            log._hasRecords = _hasRecords;
            if (_lastWasSeal || !_hasRecords) log._sealedAt = log._tailLsn;
            log.Recovery = new RecoveryReport
            {
                Location = device.Location,
                SegmentCount = segments.Count,
                RecordCount = _records,
                FirstLsn = segments[0].BaseLsn + LogFormat.SegmentHeaderSize,
                TailLsn = log._tailLsn,
                LastSequence = _hasRecords ? _lastSequence : null,
                TornTail = _torn,
                StaleTail = _stale,
                RetiredSegments = retired.Count,
                DiscardedSegments = _discarded,
            };
            if (log._tailOffset >= segmentSize - LogFormat.RecordHeaderSize && log._spare == null) log.TryPrepareSpare();
            return log;
        }

        /// <summary>
        /// Keeps the newest retired segments, up to <see cref="LogOptions.RecycleSegments"/>, and deletes the rest (with
        /// recycling off, all of them). A retired id at or above the first segment's cannot come from this log's own
        /// retirements, so it is deleted too: reusing it could put an old record back at its own LSN.
        /// </summary>
        private List<long> KeepRetired(IStorageDevice device, LogOptions options, long firstId)
        {
            long[] ids = device.ListRetired();
            var kept = new List<long>(options.RecycleSegments);
            for (int i = ids.Length - 1; i >= 0; i--)
            {
                if (ids[i] < firstId && kept.Count < options.RecycleSegments)
                {
                    kept.Insert(0, ids[i]);
                    continue;
                }
                device.DeleteRetired(ids[i]);
                _discarded.Add($"retired segment {ids[i]} (deleted)");
            }
            return kept;
        }

        /// <summary>
        /// Zeroes, durably, what this life wrote from the tail on, so the next open finds a clean end: everything in fresh
        /// segments; in recycled ones, the headers of the intact records found (the rest there cannot verify).
        /// </summary>
        private void ZeroTail()
        {
            for (int i = _tailIndex; i < segments.Count; i++)
            {
                if (segments[i].Recycled) continue;
                int start = i == _tailIndex ? _tailOffset : LogFormat.SegmentHeaderSize;
                int last = segments[i].Storage.Read(start, segmentSize - start).LastIndexOfAnyExcept((byte)0);
                if (last < 0) continue;
                segments[i].Storage.GetWriteSpan(start, last + 1).Clear();
                segments[i].Storage.Flush(start, last + 1);
                if (i > _tailIndex) _discarded.Add(segments[i].Name + " (emptied)");
            }
            int previous = -1;
            foreach (var (index, offset, _) in _intactInRecycled)
            {
                Invariant.Check(segments[index].Recycled);
                segments[index].Storage.GetWriteSpan(offset, LogFormat.RecordHeaderSize).Clear();
                segments[index].Storage.Flush(offset, LogFormat.RecordHeaderSize);
                if (index > _tailIndex && index != previous) _discarded.Add(segments[index].Name + " (unflushed records of its current use invalidated)");
                previous = index;
            }
        }

        private static string Describe(RecordStatus status) => status switch
        {
            RecordStatus.Empty => "the record header is empty but bytes follow it",
            RecordStatus.BadType => "the record type is 0",
            RecordStatus.BadReserved => "the record header's reserved bytes are not zero",
            RecordStatus.BadLength => "the record length runs past the end of the segment",
            RecordStatus.BadChecksum => "checksum mismatch",
            RecordStatus.BadOrder => "the record's sequence number is below the previous record's",
            _ => status.ToString(),
        };
    }
}
