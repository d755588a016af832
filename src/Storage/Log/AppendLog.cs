using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Chainspace.Core;
using Chainspace.Storage.Devices;

namespace Chainspace.Storage.Log;

/// <summary>
/// A segmented, checksummed append log over an <see cref="IStorageDevice"/> (STYLE.md §5).
/// <para>
/// Appending is not committing: <see cref="TryAppend"/> copies one record into the segment's tail and returns
/// its LSN; it never blocks and allocates nothing. <see cref="Flush"/> makes every record appended so far
/// durable (per segment touched, one device flush of the dirty range: pwrite + fdatasync, or msync); callers group many appends per flush and ask
/// <see cref="IsDurable"/>. A failed flush poisons the log: the error is kept and every later append and
/// flush throws <see cref="LogFaultedException"/>.
/// </para>
/// <para>
/// An LSN is a byte position: segment id × segment size + offset. Records are ordered by LSN; their
/// sequence numbers (the caller's, e.g. PBFT sequence) never decrease. Threads: one appender; flushes may
/// come from another thread; reading, <see cref="DeleteBefore"/> and disposal belong to the appender's thread.
/// </para>
/// <para>
/// Segment recycling (as RocksDB's recycle_log_file_num and PostgreSQL's WAL segment recycling do): up to
/// <see cref="LogOptions.RecycleSegments"/> segments that <see cref="DeleteBefore"/> removes are retired (kept by the
/// device) instead of deleted, and the next segment the log needs reuses one, with a new header marking it recycled
/// (written and synced before the file takes the segment's name). Its blocks were written in its previous use, so
/// flushes into it skip the file system's unwritten-extent conversion. Its old bytes stay until overwritten; how
/// recovery tells them from records is in the remarks of the recovery part (AppendLog.Recovery.cs).
/// </para>
/// </summary>
public sealed partial class AppendLog : IDisposable
{
    private readonly IStorageDevice _device;
    private readonly int _segmentSize;
    private readonly double _spareThreshold;
    private readonly ulong _logId;
    private readonly object _sync = new();
    private readonly List<LogSegment> _segments;   // contiguous ids, oldest first; the last is _current
    private readonly int _recycleSegments;
    private readonly List<long> _retired;           // retired segment ids on the device, ascending, all below _segments[0].Id

    // Appender-owned.
    private LogSegment _current;
    private int _tailOffset;
    private ulong _lastSequence;
    private bool _hasRecords;
    private long _sealedAt = -1;

    // Shared with the flusher.
    private long _tailLsn;
    private long _durableLsn;
    private LogSegment? _spare;
    private volatile ExceptionDispatchInfo? _fault;
    private bool _disposed;

    private AppendLog(IStorageDevice device, LogOptions options, ulong logId, List<LogSegment> segments, int tailOffset, List<long> retired)
    {
        Invariant.Check(retired.Count <= options.RecycleSegments);
        _device = device;
        _segmentSize = options.SegmentSize;
        _spareThreshold = options.SpareThreshold;
        _recycleSegments = options.RecycleSegments;
        _retired = retired;
        _logId = logId;
        _segments = segments;
        _current = segments[^1];
        _tailOffset = tailOffset;
        _tailLsn = _current.BaseLsn + tailOffset;
        _durableLsn = _tailLsn;
        MaxPayload = LogFormat.MaxPayload(_segmentSize);
        Recovery = null!;
    }

    /// <summary>What opening found and dropped.</summary>
    public RecoveryReport Recovery { get; private set; }

    public string Location => _device.Location;
    public int SegmentSize => _segmentSize;
    public int MaxPayload { get; }

    /// <summary>End of the appended records: the LSN the next record would get (if it fits the segment).</summary>
    public long TailLsn => Volatile.Read(ref _tailLsn);

    /// <summary>Every record whose LSN is below this is durable.</summary>
    public long DurableLsn => Volatile.Read(ref _durableLsn);

    /// <summary>The LSN of the oldest record still kept (segments before it were deleted).</summary>
    public long FirstLsn
    {
        get
        {
            lock (_sync) return _segments[0].BaseLsn + LogFormat.SegmentHeaderSize;
        }
    }

    public bool HasRecords => _hasRecords;
    public ulong LastSequence => _lastSequence;
    public int SegmentCount
    {
        get
        {
            lock (_sync) return _segments.Count;
        }
    }

    /// <summary>Retired segments kept for reuse (at most <see cref="LogOptions.RecycleSegments"/>).</summary>
    public int RetiredSegmentCount
    {
        get
        {
            lock (_sync) return _retired.Count;
        }
    }

    /// <summary>Whether the segment appends go to now is a reused one (appender's thread).</summary>
    public bool CurrentSegmentRecycled => _current.Recycled;

    /// <summary>How many segments this log has made by reusing a retired one since it was opened.</summary>
    public long SegmentsReused { get; private set; }

    /// <summary>Set when <see cref="Flush"/> could not prepare the next segment (a full disk): appends still fit the current one.</summary>
    public Exception? SpareError { get; private set; }

    public bool IsFaulted => _fault != null;

    public bool IsDurable(long lsn) => lsn < Volatile.Read(ref _durableLsn);

    /// <summary>
    /// Appends one record. Returns false, having written nothing, when the current segment is full and the next
    /// one is not ready (or is being switched to by a concurrent flush); <see cref="Append"/> waits for it instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAppend(byte type, ulong sequence, ReadOnlySpan<byte> payload, out long lsn) =>
        TryAppend(type, sequence, payload, default, out lsn);

    /// <summary>
    /// Like <see cref="TryAppend(byte, ulong, ReadOnlySpan{byte}, out long)"/> for the payload
    /// <paramref name="head"/> ‖ <paramref name="tail"/>, gathered straight into the segment: the record is the same
    /// bytes as one appended whole, without the caller first copying the two parts together (a snapshot piece
    /// appends from the snapshot's own buffer).
    /// </summary>
    public bool TryAppend(byte type, ulong sequence, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, out long lsn)
    {
        if (_fault != null) ThrowFaulted();
        if (_disposed) ThrowDisposed();
        if (!LogRecordType.IsUser(type)) ThrowBadType(type);
        if (_hasRecords && sequence < _lastSequence) ThrowSequenceBackwards(sequence);
        long length = (long)head.Length + tail.Length;
        if (length > MaxPayload) ThrowTooLarge(length);
        return TryAppendRecord(type, sequence, head, tail, out lsn);
    }

    /// <summary>Appends one record, creating the next segment if it must (which blocks, and may throw <see cref="StorageFullException"/>).</summary>
    public long Append(byte type, ulong sequence, ReadOnlySpan<byte> payload) => Append(type, sequence, payload, default);

    /// <summary>Appends the record whose payload is <paramref name="head"/> ‖ <paramref name="tail"/> (see
    /// <see cref="TryAppend(byte, ulong, ReadOnlySpan{byte}, ReadOnlySpan{byte}, out long)"/>), creating the next segment if it must.</summary>
    public long Append(byte type, ulong sequence, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        while (true)
        {
            if (TryAppend(type, sequence, head, tail, out long lsn)) return lsn;
            PrepareNextSegment();
        }
    }

    /// <summary>
    /// Makes every record appended so far durable, then (outside the appender's path) prepares the next segment
    /// once the current one is <see cref="LogOptions.SpareThreshold"/> full.
    /// </summary>
    public void Flush()
    {
        if (_fault != null) ThrowFaulted();
        lock (_sync)
        {
            if (_fault != null) ThrowFaulted();
            if (_disposed) ThrowDisposed();
            long target = Volatile.Read(ref _tailLsn);
            long from = _durableLsn;
            if (target > from)
            {
                try
                {
                    FlushRange(from, target);
                }
                catch (IOException e)
                {
                    _fault = ExceptionDispatchInfo.Capture(e);
                    throw new LogFaultedException(Location, e);
                }
                Volatile.Write(ref _durableLsn, target);
                EndWritesBefore(_segments.Count - 1);
            }
            if (_spare == null && SpareError == null && target - _segments[^1].BaseLsn >= _spareThreshold * _segmentSize) TryPrepareSpare();
        }
    }

    /// <summary>Flushes unless the record at <paramref name="lsn"/> is durable already.</summary>
    public void FlushTo(long lsn)
    {
        if (!IsDurable(lsn)) Flush();
    }

    /// <summary>Creates the next segment now if there is none ready. Throws <see cref="StorageFullException"/> on a full disk.</summary>
    public void PrepareNextSegment()
    {
        if (_fault != null) ThrowFaulted();
        lock (_sync)
        {
            if (_spare != null) return;
            SpareError = null;
            _spare = CreateSegment(_segments[^1].Id + 1);
        }
    }

    /// <summary>
    /// Deletes the oldest segments whose records all have sequence numbers below <paramref name="sequence"/>
    /// and are durable (after a checkpoint at <paramref name="sequence"/>). The current segment stays. Returns how many.
    /// Up to <see cref="LogOptions.RecycleSegments"/> of them are retired (kept for reuse) rather than deleted.
    /// </summary>
    public int DeleteBefore(ulong sequence)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int deleted = 0;
        lock (_sync)
        {
            while (_segments.Count > 1)
            {
                var oldest = _segments[0];
                Invariant.Check(!ReferenceEquals(oldest, _current));
                if (oldest.HasRecords && oldest.LastSequence >= sequence) break;
                if (oldest.BaseLsn + _segmentSize > _durableLsn) break;
                _segments.RemoveAt(0);
                oldest.Storage.Dispose();
                if (_retired.Count < _recycleSegments)
                {
                    Invariant.Check(_retired.Count == 0 || _retired[^1] < oldest.Id);
                    _device.RetireSegment(oldest.Id);
                    _retired.Add(oldest.Id);
                }
                else
                {
                    _device.DeleteSegment(oldest.Id);
                }
                deleted++;
            }
        }
        return deleted;
    }

    /// <summary>
    /// Reads the durable records from <paramref name="fromLsn"/> (a record's LSN, or <see cref="FirstLsn"/>) to
    /// <see cref="DurableLsn"/> as it is now. Records not flushed yet are not read: a device may keep them in a
    /// write buffer until the flush.
    /// </summary>
    public LogReader Read(long fromLsn) => new(this, fromLsn, DurableLsn, 0);

    public LogReader ReadAll() => Read(FirstLsn);

    /// <summary>Reads the records whose sequence is at least <paramref name="sequence"/>, from the first segment that may hold one.</summary>
    public LogReader ReadFromSequence(ulong sequence)
    {
        long start;
        lock (_sync)
        {
            start = _segments[^1].BaseLsn + LogFormat.SegmentHeaderSize;
            foreach (var segment in _segments)
            {
                if (segment.HasRecords && segment.LastSequence >= sequence)
                {
                    start = segment.BaseLsn + LogFormat.SegmentHeaderSize;
                    break;
                }
            }
        }
        return new LogReader(this, start, DurableLsn, sequence);
    }

    /// <summary>Closes the log: unless faulted, seals it (a record vouching for everything before it) and flushes.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_fault == null)
        {
            try
            {
                if (_tailLsn != _sealedAt) Seal();
                Flush();
            }
            catch (IOException)
            {
                // Closing after an I/O error: the error was, or will be, reported by the flush that hit it.
            }
        }
        lock (_sync)
        {
            _disposed = true;
            foreach (var segment in _segments) segment.Storage.Dispose();
            _spare?.Storage.Dispose();
            _spare = null;
        }
    }

    internal LogSegment SegmentAt(long lsn)
    {
        long id = lsn / _segmentSize;
        long index = id - _segments[0].Id;
        if (index < 0 || index >= _segments.Count) throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"no segment holds lsn {lsn} (segments {_segments[0].Id}..{_segments[^1].Id})");
        return _segments[(int)index];
    }

    private bool TryAppendRecord(byte type, ulong sequence, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, out long lsn)
    {
        int size = LogFormat.RecordSize(head.Length + tail.Length);
        if (size > _segmentSize - _tailOffset && !TryRoll())
        {
            lsn = -1;
            return false;
        }
        var segment = _current;
        int offset = _tailOffset;
        lsn = segment.BaseLsn + offset;
        Debug.Assert(offset % LogFormat.Alignment == 0);
        LogFormat.WriteRecord(segment.Storage.GetWriteSpan(offset, size), type, sequence, Volatile.Read(ref _durableLsn), head, tail, lsn);
        segment.Note(sequence);
        _tailOffset = offset + size;
        _lastSequence = sequence;
        _hasRecords = true;
        Volatile.Write(ref _tailLsn, lsn + size);
        return true;
    }

    /// <summary>Ends the current segment (a padding record if one fits) and moves to the spare. Never waits.</summary>
    private bool TryRoll()
    {
        if (!Monitor.TryEnter(_sync)) return false;
        try
        {
            if (_spare == null || _disposed) return false;
            Invariant.Check(_spare.Id == _current.Id + 1);
            _current.WrittenEnd = _tailOffset;
            if (_segmentSize - _tailOffset >= LogFormat.RecordHeaderSize)
            {
                long lsn = _current.BaseLsn + _tailOffset;
                var span = _current.Storage.GetWriteSpan(_tailOffset, LogFormat.RecordHeaderSize);
                LogFormat.WriteRecord(span, LogRecordType.Padding, _lastSequence, _durableLsn, ReadOnlySpan<byte>.Empty, lsn);
                _current.WrittenEnd += LogFormat.RecordHeaderSize;
            }
            _segments.Add(_spare);
            _current = _spare;
            _spare = null;
            _tailOffset = LogFormat.SegmentHeaderSize;
            Volatile.Write(ref _tailLsn, _current.BaseLsn + _tailOffset);
            return true;
        }
        finally
        {
            Monitor.Exit(_sync);
        }
    }

    /// <summary>Appends a seal record when it fits the current segment; skipped (harmlessly) when it does not.</summary>
    private void Seal()
    {
        if (_segmentSize - _tailOffset < LogFormat.RecordHeaderSize) return;
        var segment = _current;
        long lsn = segment.BaseLsn + _tailOffset;
        LogFormat.WriteRecord(segment.Storage.GetWriteSpan(_tailOffset, LogFormat.RecordHeaderSize), LogRecordType.Seal, _lastSequence, Volatile.Read(ref _durableLsn), ReadOnlySpan<byte>.Empty, lsn);
        _tailOffset += LogFormat.RecordHeaderSize;
        _sealedAt = lsn + LogFormat.RecordHeaderSize;
        Volatile.Write(ref _tailLsn, _sealedAt);
    }

    /// <summary>Flushes [from, to) segment by segment, oldest first, so what is durable is always a prefix.</summary>
    private void FlushRange(long from, long to)
    {
        long first = from / _segmentSize;
        long last = (to - 1) / _segmentSize;
        for (long id = first; id <= last; id++)
        {
            var segment = _segments[(int)(id - _segments[0].Id)];
            // The header was made durable with the segment; only records are ever rewritten.
            long lo = Math.Max(from - segment.BaseLsn, LogFormat.SegmentHeaderSize);
            long hi = id == last ? to - segment.BaseLsn : segment.WrittenEnd;
            Invariant.Check(hi >= 0);
            if (hi > lo) segment.Storage.Flush((int)lo, (int)(hi - lo));
        }
    }

    /// <summary>Tells the segments before <paramref name="index"/> (complete and flushed) that no more writes come.</summary>
    private void EndWritesBefore(int index)
    {
        for (int i = index - 1; i >= 0 && !_segments[i].WritesEnded; i--)
        {
            _segments[i].Storage.EndWrites();
            _segments[i].WritesEnded = true;
        }
    }

    private void TryPrepareSpare()
    {
        try
        {
            _spare = CreateSegment(_segments[^1].Id + 1);
        }
        catch (IOException e)
        {
            // Not a fault of the log: what is written stays readable and durable. Appends fail once the
            // current segment is full; PrepareNextSegment then throws this error to the caller.
            SpareError = e;
        }
    }

    /// <summary>Makes segment <paramref name="id"/>: from the newest retired segment if there is one, else a fresh one.</summary>
    private LogSegment CreateSegment(long id)
    {
        Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
        if (_retired.Count > 0)
        {
            // Newest first: its pages are the likeliest to be cached still. Every retired id is below every log
            // segment's, so none of the file's old records verifies at any LSN of its new id.
            long previous = _retired[^1];
            _retired.RemoveAt(_retired.Count - 1);
            Invariant.Check(previous < id);
            LogFormat.WriteSegmentHeader(header, id, _segmentSize, _logId, previous);
            IStorageSegment reused;
            try
            {
                reused = _device.ReuseSegment(previous, id, _segmentSize, header);
            }
            catch (IOException)
            {
                // The file is gone or unusable (another size, an I/O error): drop it, so the next attempt moves on.
                TryDeleteRetired(previous);
                throw;
            }
            SegmentsReused++;
            return new LogSegment(reused, id * _segmentSize, previous);
        }
        LogFormat.WriteSegmentHeader(header, id, _segmentSize, _logId);
        var storage = _device.CreateSegment(id, _segmentSize, header);
        return new LogSegment(storage, id * _segmentSize);
    }

    private void TryDeleteRetired(long id)
    {
        try
        {
            _device.DeleteRetired(id);
        }
        catch (IOException)
        {
            // Left behind: the next attempt to reuse it fails the same way and tries again, or an open drops it.
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowFaulted() => throw new LogFaultedException(Location, _fault!.SourceException);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowDisposed() => throw new ObjectDisposedException(nameof(AppendLog), $"log '{Location}' is closed");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadType(byte type) =>
        throw new ArgumentOutOfRangeException(nameof(type), type, $"record types are 1..{LogRecordType.MaxUser}; the rest are the log's own");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowSequenceBackwards(ulong sequence) =>
        throw new ArgumentException($"sequence {sequence} is below the last appended sequence {_lastSequence}; sequences never decrease", nameof(sequence));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(long length) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"a record payload holds at most {MaxPayload} bytes with {_segmentSize}-byte segments");
}
