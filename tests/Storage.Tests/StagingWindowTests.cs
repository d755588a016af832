using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>
/// The buffered write mode stages appends in a window of <see cref="MmapDevice.StageSize"/> bytes and spills it when
/// a record does not fit. These logs use segments several windows long, records larger than a window, and a flusher
/// on another thread, so window moves happen between, inside and across flushes; every mode must read back the same.
/// </summary>
public sealed class StagingWindowTests
{
    private const int SegmentSize = 4 << 20;
    private static readonly LogOptions Options = new() { SegmentSize = SegmentSize };

    [Theory]
    [InlineData(MmapWriteMode.Buffered, 1)]
    [InlineData(MmapWriteMode.Buffered, 2)]
    [InlineData(MmapWriteMode.Mapped, 3)]
    public void Staging_RecordsAcrossWindowsAndOutsizedRecords_DurableReadsAndReopenMatch(MmapWriteMode mode, int seed)
    {
        using var directory = new TempDirectory("staging");
        var random = new Random(seed);
        var written = new List<Written>();
        ulong sequence = 1;
        using (var log = AppendLog.Open(new MmapDevice(directory.Path, mode), Options))
        {
            while (log.TailLsn < 3L * SegmentSize)
            {
                int length = random.Next(20) == 0 ? MmapDevice.StageSize + random.Next(2 * MmapDevice.StageSize) : random.Next(1, 40_000);
                var payload = Payload(sequence, length);
                written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
                sequence++;
                if (random.Next(6) != 0) continue;
                log.Flush();
                // Reads come from the file mapping: what the flush pwrote must be there, byte for byte.
                AssertSame(written, ReadAll(log), written.Count);
            }
            log.Flush();
        }
        Assert.Contains(written, w => w.Payload.Length > MmapDevice.StageSize);
        using var reopened = AppendLog.Open(new MmapDevice(directory.Path, mode), Options);
        Assert.Null(reopened.Recovery.TornTail);
        AssertSame(written, ReadAll(reopened), written.Count);
    }

    [Theory]
    [InlineData(MmapWriteMode.Buffered)]
    [InlineData(MmapWriteMode.Mapped)]
    public void Staging_FlusherOnAnotherThread_EveryFlushedRecordSurvivesReopen(MmapWriteMode mode)
    {
        using var directory = new TempDirectory("staging-threads");
        var written = new List<Written>();
        using (var log = AppendLog.Open(new MmapDevice(directory.Path, mode), Options))
        {
            using var stop = new CancellationTokenSource();
            long flushes = 0;
            var flusher = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    log.Flush();
                    flushes++;
                }
            });
            flusher.Start();
            var random = new Random(4);
            for (ulong sequence = 1; log.TailLsn < 2L * SegmentSize + SegmentSize / 2; sequence++)
            {
                var payload = Payload(sequence, random.Next(1, 9_000));
                written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
            }
            stop.Cancel();
            flusher.Join();
            Assert.True(flushes > 1, $"the flusher ran {flushes} times");
            log.Flush();
            AssertSame(written, ReadAll(log), written.Count);
        }
        using var reopened = AppendLog.Open(new MmapDevice(directory.Path, mode), Options);
        AssertSame(written, ReadAll(reopened), written.Count);
    }
}
