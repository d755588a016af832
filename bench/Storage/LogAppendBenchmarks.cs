using BenchmarkDotNet.Attributes;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;

namespace Chainspace.Bench.Storage;

/// <summary>
/// Appending records to the log with a flush every N records, on real files, in the default write mode
/// (<see cref="MmapWriteMode.Buffered"/>: appends staged in a 1 MiB window, flush = pwrite of the new bytes +
/// fdatasync) and in <see cref="MmapWriteMode.Mapped"/> mode (appends into the shared mapping, flush = msync),
/// beside the baseline: the same records (same header, checksum and padding) written through a FileStream
/// (64 KiB buffer) and flushed with <c>Flush(flushToDisk: true)</c> every N records, which is fsync(2) on Linux
/// (seen with strace), so both sides make every record durable at every flush. The log's file is preallocated
/// and never changes size, so fdatasync is enough there; the baseline's file grows, so it needs fsync.
/// One operation is one record; the columns give records/s and payload MB/s. Data lives under the system temp
/// directory and is recycled (old segments retired and reused by the log, as <see cref="LogOptions.RecycleSegments"/>
/// does by default; the baseline file truncated) so a long run does not fill the disk. The setup of each log case
/// runs it into steady state first: it appends (1 MiB records) until the log writes into a reused segment with a
/// reused spare ready, so every measured append goes to a segment whose blocks were written before, none to a fresh
/// one. The cleanup prints how many segments were reused and whether the last was.
/// The iteration counts below keep the full matrix (27 cases) to a few minutes on a small machine.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(LogThroughputConfig))]
[WarmupCount(3)]
[IterationCount(15)]
[IterationTime(250)]
public class LogAppendBenchmarks
{
    public const int RecordsPerInvoke = 1024;
    private const int SegmentSize = 64 << 20;
    private const long BaselineRecycleBytes = 256L << 20;

    [ParamsSource(nameof(RecordSizes))]
    public int RecordSize { get; set; }

    [ParamsSource(nameof(FlushIntervals))]
    public int FlushEvery { get; set; }

    /// <summary>64 B, 256 B, 4 KiB; CHAINSPACE_BENCH_RECORD_SIZES=64,4096 narrows a run.</summary>
    public static IEnumerable<int> RecordSizes => BenchEnvironment.List("CHAINSPACE_BENCH_RECORD_SIZES", [64, 256, 4096], BenchEnvironment.ParseInt);

    /// <summary>
    /// A flush every 1, 64 or 1024 records; CHAINSPACE_BENCH_FLUSH_EVERY=1024 narrows a run (N = 1 costs one
    /// fsync per record, milliseconds each on a slow virtual disk).
    /// </summary>
    public static IEnumerable<int> FlushIntervals => BenchEnvironment.List("CHAINSPACE_BENCH_FLUSH_EVERY", [1, 64, 1024], BenchEnvironment.ParseInt);

    private string _directory = null!;
    private AppendLog _log = null!;
    private AppendLog _mapped = null!;
    private FileStream _file = null!;
    private byte[] _payload = null!;
    private byte[] _record = null!;
    private ulong _sequence;
    private long _baselineLsn;
    private int _sinceFlush;

    // Checkpoints (one log is appended to per case): the sequence at which each segment was first seen, so a
    // checkpoint drops exactly the oldest segment once there are more than KeptSegments.
    private const int KeptSegments = 4;
    private readonly Queue<ulong> _segmentStarts = new(16);
    private long _lastSegment = -1;
    private int _segmentsBegun;
    private long _reusedAtSetup;

    [GlobalSetup(Target = nameof(FileStreamAppend))]
    public void SetupBaseline() => Setup();

    [GlobalSetup(Target = nameof(LogAppend))]
    public void SetupLog()
    {
        Setup();
        RunIntoReusedSegments(_log);
    }

    [GlobalSetup(Target = nameof(MappedModeLogAppend))]
    public void SetupMapped()
    {
        Setup();
        RunIntoReusedSegments(_mapped);
    }

    private void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "chainspace-bench-log-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        _log = AppendLog.Open(new MmapDevice(Path.Combine(_directory, "log")), new LogOptions { SegmentSize = SegmentSize });
        _log.PrepareNextSegment();
        _mapped = AppendLog.Open(new MmapDevice(Path.Combine(_directory, "mapped"), MmapWriteMode.Mapped), new LogOptions { SegmentSize = SegmentSize });
        _mapped.PrepareNextSegment();
        _file = new FileStream(Path.Combine(_directory, "baseline.log"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024);
        _payload = new byte[RecordSize];
        new Random(1).NextBytes(_payload);
        _record = new byte[LogFormat.RecordSize(RecordSize)];
        _sequence = 1;
    }

    /// <summary>Steady state before warm-up: the current segment and the spare are reused ones, as they stay (see <see cref="Checkpoint"/>).</summary>
    private void RunIntoReusedSegments(AppendLog log)
    {
        var filler = new byte[1 << 20];
        while (log.SegmentsReused < 2 || !log.CurrentSegmentRecycled)
        {
            log.Append(1, _sequence++, filler);
            log.Flush();
            Checkpoint(log);
        }
        _segmentsBegun = 0;
        _reusedAtSetup = log.SegmentsReused;
    }

    /// <summary>
    /// Drops the oldest segment once more than <see cref="KeptSegments"/> are kept: one at a time, so each one retired
    /// is reused by the next segment and the log stays on reused segments (with the default
    /// <see cref="LogOptions.RecycleSegments"/> of 2). Dropping several at once would retire only 2 and delete the
    /// rest, and the next segments would then be fresh ones.
    /// </summary>
    private void Checkpoint(AppendLog log)
    {
        long segment = (log.TailLsn - 1) / SegmentSize;
        if (segment != _lastSegment)
        {
            _segmentStarts.Enqueue(_sequence);
            _lastSegment = segment;
            _segmentsBegun++;
        }
        while (log.SegmentCount > KeptSegments && _segmentStarts.Count > 0) log.DeleteBefore(_segmentStarts.Dequeue());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (name, log) in new[] { ("LogAppend", _log), ("MappedModeLogAppend", _mapped) })
        {
            if (log.SegmentsReused == 0) continue;
            Console.WriteLine($"// {name}: after setup, {_segmentsBegun} segment(s) begun and {log.SegmentsReused - _reusedAtSetup} more reused " +
                $"(the spare made ahead included); current segment reused: {log.CurrentSegmentRecycled}");
        }
        _log.Dispose();
        _mapped.Dispose();
        _file.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerInvoke)]
    public void FileStreamAppend()
    {
        for (int i = 0; i < RecordsPerInvoke; i++)
        {
            LogFormat.WriteRecord(_record, 1, _sequence++, 0, _payload, _baselineLsn);
            _file.Write(_record);
            _baselineLsn += _record.Length;
            if (++_sinceFlush == FlushEvery)
            {
                _file.Flush(flushToDisk: true);
                _sinceFlush = 0;
            }
        }
        if (_baselineLsn >= BaselineRecycleBytes)
        {
            _file.Flush(flushToDisk: true);
            _file.SetLength(0);
            _file.Seek(0, SeekOrigin.Begin);
            _baselineLsn = 0;
        }
    }

    /// <summary>The log on an <see cref="MmapDevice"/> in its default mode (<see cref="MmapWriteMode.Buffered"/>): appends copy into a staging window, flush = pwrite + fdatasync.</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerInvoke)]
    public void LogAppend() => AppendBatch(_log);

    /// <summary>The log on an <see cref="MmapDevice"/> in <see cref="MmapWriteMode.Mapped"/> mode: appends copy into the shared mapping, flush = msync.</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerInvoke)]
    public void MappedModeLogAppend() => AppendBatch(_mapped);

    private void AppendBatch(AppendLog log)
    {
        for (int i = 0; i < RecordsPerInvoke; i++)
        {
            if (!log.TryAppend(1, _sequence, _payload, out _)) log.Append(1, _sequence, _payload);
            _sequence++;
            if (++_sinceFlush == FlushEvery)
            {
                log.Flush();
                _sinceFlush = 0;
            }
        }
        Checkpoint(log);
    }
}
