using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>
/// The log's behaviour on every device (STYLE.md §4, one conformance suite): derived once per device,
/// real files (mmap) included. Damage is done to the media between a close and an open.
/// </summary>
public abstract partial class LogConformanceTests : IDisposable
{
    protected const int SegmentSize = 64 * 1024;
    protected static readonly LogOptions Options = new() { SegmentSize = SegmentSize };

    /// <summary>The device to open the log on (the same media every time).</summary>
    protected abstract IStorageDevice Device { get; }
    protected abstract byte[] ReadSegment(long id);
    protected abstract void WriteSegment(long id, byte[] image);

    /// <summary>Cuts the segment at <paramref name="length"/> (a real truncation where the device has files).</summary>
    protected abstract void Truncate(long id, int length);

    public virtual void Dispose()
    {
    }

    protected AppendLog Open() => AppendLog.Open(Device, Options);

    protected List<Written> AppendRecords(AppendLog log, int count, Func<int, int> length, ulong firstSequence = 1)
    {
        var written = new List<Written>();
        for (int i = 0; i < count; i++)
        {
            ulong sequence = firstSequence + (ulong)i;
            byte[] payload = Payload(sequence, length(i));
            long lsn = log.Append(1, sequence, payload);
            written.Add(new Written(lsn, sequence, payload));
        }
        return written;
    }

    [Fact]
    public void Log_AppendFlushReopen_ReadsEveryRecordBack()
    {
        List<Written> written;
        using (var log = Open())
        {
            Assert.True(log.Recovery.CreatedNew);
            written = AppendRecords(log, 300, i => i * 37 % 1500);
            Assert.False(log.IsDurable(written[^1].Lsn));
            log.Flush();
            Assert.True(log.IsDurable(written[^1].Lsn));
            Assert.True(log.SegmentCount > 1);
            AssertSame(written, ReadAll(log), written.Count);
        }
        using (var log = Open())
        {
            Assert.Null(log.Recovery.TornTail);
            Assert.Equal(300, log.Recovery.RecordCount);
            Assert.Equal(300UL, log.LastSequence);
            AssertSame(written, ReadAll(log), written.Count);
            long lsn = log.Append(2, 301, Payload(301, 10));
            log.Flush();
            Assert.Equal(301, ReadAll(log).Count);
            Assert.Equal(lsn, ReadAll(log)[^1].Lsn);
        }
    }

    [Fact]
    public void TornTail_EveryOffsetInLastRecord_ReopensToExactlyTheRecordsBefore()
    {
        List<Written> written;
        using (var log = Open())
        {
            // The last record lives in the second segment. Its payload is a multiple of 8, so it has no
            // zero padding, in which a cut would leave every byte of the record as it was.
            written = AppendRecords(log, 60, i => i == 59 ? 296 : 1200);
            log.Flush();
        }
        var last = written[^1];
        long segment = last.Lsn / SegmentSize;
        int start = (int)(last.Lsn % SegmentSize);
        int end = start + LogFormat.RecordSize(last.Payload.Length);
        Assert.Equal(1, segment);
        byte[] original = ReadSegment(segment);

        for (int cut = start; cut < end; cut++)
        {
            WriteSegment(segment, original);
            Truncate(segment, cut);
            using var log = Open();
            AssertSame(written, ReadAll(log), written.Count - 1);
            int lastWritten = original.AsSpan(start, cut - start).LastIndexOfAnyExcept((byte)0);
            if (lastWritten < 0)
            {
                Assert.Null(log.Recovery.TornTail);
                continue;
            }
            var torn = log.Recovery.TornTail;
            Assert.NotNull(torn);
            Assert.Equal(Device.SegmentName(segment), torn.File);
            Assert.Equal(start, torn.Offset);
            Assert.Equal(last.Lsn, torn.Lsn);
            Assert.Equal(lastWritten + 1, torn.BytesDropped);
            Assert.Equal(0, torn.IntactRecordsDropped);
            Assert.Equal(last.Lsn, log.TailLsn);
        }
    }

    [Fact]
    public void TornTail_AfterRecovery_SecondOpenIsClean()
    {
        List<Written> written;
        using (var log = Open())
        {
            written = AppendRecords(log, 10, _ => 100);
            log.Flush();
        }
        int start = (int)(written[^1].Lsn % SegmentSize);
        Truncate(0, start + 20);
        using (var log = Open()) Assert.NotNull(log.Recovery.TornTail);
        using (var log = Open())
        {
            Assert.Null(log.Recovery.TornTail);
            AssertSame(written, ReadAll(log), 9);
        }
    }

    [Fact]
    public void Corruption_FlippedBitInEarlierRecord_OpenFailsNamingFileAndOffset()
    {
        List<Written> written;
        using (var log = Open())
        {
            written = AppendRecords(log, 40, i => 50 + i * 13);
            log.Flush();
        }
        byte[] original = ReadSegment(0);
        var random = new Random(4);
        foreach (int k in new[] { 0, 1, 17, 38, 39 })
        {
            int start = (int)written[k].Lsn;
            int size = LogFormat.RecordSize(written[k].Payload.Length);
            foreach (int at in new[] { start, start + 9, start + 12, start + 20, start + 31, start + size - 1, start + random.Next(size) })
            {
                var damaged = (byte[])original.Clone();
                damaged[at] ^= (byte)(1 << random.Next(8));
                WriteSegment(0, damaged);
                var e = Assert.Throws<LogCorruptionException>(Open);
                Assert.Equal(Device.SegmentName(0), e.File);
                Assert.Equal(start, e.Offset);
                Assert.Contains(Device.SegmentName(0), e.Message);
                Assert.Contains($"offset {start}", e.Message);
            }
        }
        WriteSegment(0, original);
        using (var log = Open()) AssertSame(written, ReadAll(log), written.Count);
    }

    [Fact]
    public void Corruption_DamagedSegmentHeader_OpenFails()
    {
        using (var log = Open())
        {
            AppendRecords(log, 3, _ => 10);
        }
        byte[] original = ReadSegment(0);
        var damaged = (byte[])original.Clone();
        damaged[20] ^= 1;
        WriteSegment(0, damaged);
        var e = Assert.Throws<LogCorruptionException>(Open);
        Assert.Equal(0, e.Offset);
        Assert.Contains("segment header", e.Message);
        WriteSegment(0, original);
    }

    [Fact]
    public void Log_ReadFromSequenceAndDeleteBefore_KeepTheRest()
    {
        using var log = Open();
        var written = AppendRecords(log, 400, _ => 700);
        log.Flush();
        int segments = log.SegmentCount;
        Assert.True(segments >= 4);

        var fromSequence = new List<ulong>();
        foreach (var record in log.ReadFromSequence(250)) fromSequence.Add(record.Sequence);
        Assert.Equal(Enumerable.Range(250, 151).Select(i => (ulong)i), fromSequence);

        int deleted = log.DeleteBefore(250);
        Assert.True(deleted >= 2);
        Assert.Equal(segments - deleted, log.SegmentCount);
        var rest = ReadAll(log);
        Assert.True(rest[0].Sequence <= 250);
        Assert.Equal(400UL, rest[^1].Sequence);
        Assert.Equal(written.Count - (int)rest[0].Sequence + 1, rest.Count);
        log.Dispose();
        using var reopened = Open();
        Assert.Equal(rest.Count, ReadAll(reopened).Count);
    }

    [Fact]
    public void Append_BadArguments_RejectedWithoutWriting()
    {
        using var log = Open();
        log.Append(1, 10, Payload(10, 5));
        long tail = log.TailLsn;
        Assert.Throws<ArgumentException>(() => log.TryAppend(1, 9, Payload(9, 5), out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TryAppend(0, 11, Payload(11, 5), out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TryAppend(LogRecordType.Seal, 11, Payload(11, 5), out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TryAppend(1, 11, new byte[log.MaxPayload + 1], out _));
        Assert.Equal(tail, log.TailLsn);
        log.Append(1, 10, new byte[log.MaxPayload]);   // the largest payload fits (in a segment of its own)
        log.Flush();
    }

    [Fact]
    public void AppendInTwoParts_ReadsBackAsOnePayload_AndSurvivesReopen()
    {
        var written = new List<Written>();
        using (var log = Open())
        {
            for (int i = 0; i < 40; i++)
            {
                ulong sequence = 1 + (ulong)i;
                byte[] payload = Payload(sequence, i * 53 % 3000);
                int cut = i % 3 == 0 ? 0 : i % 3 == 1 ? payload.Length : payload.Length / 3;   // empty head, empty tail, both
                long lsn = log.Append(1, sequence, payload.AsSpan(0, cut), payload.AsSpan(cut));
                written.Add(new Written(lsn, sequence, payload));
            }
            log.Flush();
            AssertSame(written, ReadAll(log), written.Count);
        }
        using (var reopened = Open())
        {
            Assert.Null(reopened.Recovery.TornTail);
            AssertSame(written, ReadAll(reopened), written.Count);
            long tail = reopened.TailLsn;
            var half = new byte[reopened.MaxPayload / 2 + 1];
            Assert.Throws<ArgumentOutOfRangeException>(() => reopened.TryAppend(1, 41, half, half, out _));
            Assert.Equal(tail, reopened.TailLsn);
        }
    }

    [Fact]
    public void Log_AfterDispose_AppendAndFlushThrow()
    {
        var log = Open();
        log.Append(1, 1, Payload(1, 10));
        log.Dispose();
        log.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.TryAppend(1, 2, Payload(2, 10), out _));
        Assert.Throws<ObjectDisposedException>(log.Flush);
        using var reopened = Open();
        Assert.Single(ReadAll(reopened));
    }

    [Fact]
    public void Append_EmptyPayloadsAndEqualSequences_RoundTrip()
    {
        List<Written> written;
        using (var log = Open())
        {
            written = new List<Written>();
            for (int i = 0; i < 20; i++) written.Add(new Written(log.Append(3, (ulong)(i / 4), []), (ulong)(i / 4), []));
        }
        using (var log = Open()) AssertSame(written, ReadAll(log), written.Count);
    }
}

/// <summary>The suite over real files written through the shared mapping (mapped writes).</summary>
public sealed class MmapLogTests : LogConformanceTests
{
    private readonly TempDirectory _directory = new("mmap-log");

    protected override IStorageDevice Device => new MmapDevice(_directory.Path, MmapWriteMode.Mapped);

    private string PathOf(long id) => Device.SegmentName(id);

    protected override byte[] ReadSegment(long id) => File.ReadAllBytes(PathOf(id));
    protected override void WriteSegment(long id, byte[] image) => File.WriteAllBytes(PathOf(id), image);

    protected override void Truncate(long id, int length)
    {
        using var file = new FileStream(PathOf(id), FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    public override void Dispose() => _directory.Dispose();

    [Fact]
    public void MmapDevice_InterruptedCreation_TemporaryFileRemovedOnOpen()
    {
        using (var log = Open()) log.Append(1, 1, Payload(1, 10));
        string tmp = PathOf(1) + ".tmp";
        File.WriteAllBytes(tmp, new byte[100]);
        var device = new MmapDevice(_directory.Path, MmapWriteMode.Mapped);
        Assert.Equal([tmp], device.RemovedTemporaryFiles);
        Assert.False(File.Exists(tmp));
        using var reopened = AppendLog.Open(device, Options);
        Assert.Single(ReadAll(reopened));
    }

    [Fact]
    public void MmapDevice_SegmentFilesArePreallocated()
    {
        using var log = Open();
        var info = new FileInfo(PathOf(0));
        Assert.Equal(SegmentSize, info.Length);
    }
}

/// <summary>The suite over real files written with pwrite from a write buffer (reads still mapped).</summary>
public sealed class BufferedMmapLogTests : LogConformanceTests
{
    private readonly TempDirectory _directory = new("buffered-log");

    protected override IStorageDevice Device => new MmapDevice(_directory.Path, MmapWriteMode.Buffered);
    private string PathOf(long id) => Device.SegmentName(id);
    protected override byte[] ReadSegment(long id) => File.ReadAllBytes(PathOf(id));
    protected override void WriteSegment(long id, byte[] image) => File.WriteAllBytes(PathOf(id), image);

    protected override void Truncate(long id, int length)
    {
        using var file = new FileStream(PathOf(id), FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    public override void Dispose() => _directory.Dispose();
}

public sealed class MemoryLogTests : LogConformanceTests
{
    private readonly MemoryDevice _device = new();

    protected override IStorageDevice Device => _device;
    protected override byte[] ReadSegment(long id) => _device.Raw(id).ToArray();
    protected override void WriteSegment(long id, byte[] image) => image.CopyTo(_device.Raw(id));
    protected override void Truncate(long id, int length) => _device.Raw(id)[length..].Clear();
}

/// <summary>The suite through the fault layer (no faults injected), over memory.</summary>
public sealed class FaultyMemoryLogTests : LogConformanceTests
{
    private readonly MemoryDevice _inner = new();
    private readonly FaultyDevice _device;

    public FaultyMemoryLogTests() => _device = new FaultyDevice(_inner, seed: 1);

    protected override IStorageDevice Device => _device;
    protected override byte[] ReadSegment(long id) => _inner.Raw(id).ToArray();
    protected override void WriteSegment(long id, byte[] image) => image.CopyTo(_inner.Raw(id));
    protected override void Truncate(long id, int length) => _inner.Raw(id)[length..].Clear();
}

/// <summary>The suite through the fault layer over real files (buffered writes).</summary>
public sealed class FaultyMmapLogTests : LogConformanceTests
{
    private readonly TempDirectory _directory = new("faulty-mmap-log");
    private readonly FaultyDevice _device;

    public FaultyMmapLogTests() => _device = new FaultyDevice(new MmapDevice(_directory.Path, MmapWriteMode.Buffered), seed: 2);

    protected override IStorageDevice Device => _device;
    private string PathOf(long id) => _device.SegmentName(id);
    protected override byte[] ReadSegment(long id) => File.ReadAllBytes(PathOf(id));
    protected override void WriteSegment(long id, byte[] image) => File.WriteAllBytes(PathOf(id), image);

    protected override void Truncate(long id, int length)
    {
        using var file = new FileStream(PathOf(id), FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    public override void Dispose()
    {
        _device.Dispose();
        _directory.Dispose();
    }
}
