using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>The log under injected faults: crashes that lose, tear or reorder unflushed writes; failed flushes; a full device.</summary>
public sealed class FaultyDeviceLogTests
{
    private const int SegmentSize = 8192;
    private static readonly LogOptions Options = new() { SegmentSize = SegmentSize };

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int seed = 1; seed <= 200; seed++) data.Add(seed);
        return data;
    }

    /// <summary>
    /// Rounds of random appends and flushes, each ended by a crash of a seed-drawn kind. After every crash
    /// the recovered log must be a prefix of what was appended (same LSNs, sequences and bytes: nothing
    /// corrupted, nothing reordered) that contains every record flushed before the crash.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Crash_RandomWorkload_FlushedRecordsSurviveAndNothingIsCorruptOrReordered(int seed)
    {
        var random = new Random(seed);
        var device = new FaultyDevice(new MemoryDevice(), seed, pageSize: random.Next(2) == 0 ? 512 : 4096);
        var expected = new List<Written>();
        int durable = 0;
        ulong sequence = 1;
        for (int round = 0; round < 4; round++)
        {
            var log = AppendLog.Open(device, Options);
            var recovered = ReadAll(log);
            Assert.True(recovered.Count >= durable, $"seed {seed} round {round}: {recovered.Count} records recovered, {durable} were flushed");
            AssertSame(expected, recovered, recovered.Count);
            expected.RemoveRange(recovered.Count, expected.Count - recovered.Count);
            durable = expected.Count;
            sequence = expected.Count > 0 ? expected[^1].Sequence + 1 : sequence;

            int operations = random.Next(1, 120);
            for (int i = 0; i < operations; i++)
            {
                if (random.Next(6) == 0)
                {
                    log.Flush();
                    durable = expected.Count;
                    continue;
                }
                int length = random.Next(4) == 0 ? random.Next(3000) : random.Next(200);
                byte[] payload = Payload(sequence, length);
                expected.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
                sequence += (ulong)random.Next(2);
            }
            device.Crash();
            log.Dispose();   // a dead process's log: nothing it does reaches the media now
        }
        using var last = AppendLog.Open(device, Options);
        var final = ReadAll(last);
        Assert.True(final.Count >= durable);
        AssertSame(expected, final, final.Count);
    }

    [Theory]
    [InlineData(CrashMode.LoseUnflushed, MmapWriteMode.Buffered)]
    [InlineData(CrashMode.TearLastWrite, MmapWriteMode.Buffered)]
    [InlineData(CrashMode.ReorderPages, MmapWriteMode.Buffered)]
    [InlineData(CrashMode.LoseUnflushed, MmapWriteMode.Mapped)]
    [InlineData(CrashMode.TearLastWrite, MmapWriteMode.Mapped)]
    [InlineData(CrashMode.ReorderPages, MmapWriteMode.Mapped)]
    public void Crash_EachMode_OverRealFiles_FlushedRecordsSurvive(CrashMode mode, MmapWriteMode writeMode)
    {
        using var directory = new TempDirectory("crash-" + mode);
        for (int seed = 1; seed <= 10; seed++)
        {
            var device = new FaultyDevice(new MmapDevice(Path.Combine(directory.Path, seed.ToString()), writeMode), seed);
            var written = new List<Written>();
            var log = AppendLog.Open(device, Options);
            for (ulong s = 1; s <= 40; s++) written.Add(new Written(log.Append(1, s, Payload(s, (int)(s * 97 % 900))), s, Payload(s, (int)(s * 97 % 900))));
            log.Flush();
            for (ulong s = 41; s <= 80; s++) written.Add(new Written(log.Append(1, s, Payload(s, (int)(s * 97 % 900))), s, Payload(s, (int)(s * 97 % 900))));
            device.Crash(mode);
            log.Dispose();
            using var reopened = AppendLog.Open(device, Options);
            var recovered = ReadAll(reopened);
            Assert.InRange(recovered.Count, 40, 80);
            AssertSame(written, recovered, recovered.Count);
            if (mode == CrashMode.LoseUnflushed) Assert.Equal(40, recovered.Count);
            reopened.Dispose();
            device.Dispose();
        }
    }

    [Fact]
    public void Crash_ReorderedWriteback_IntactRecordsAfterAHoleAreDroppedAndReported()
    {
        // Record 2's first page never reached the media, record 3's page did (writeback in any order),
        // and neither was flushed. Record 3 is intact but sits after a hole no record vouches for.
        var media = new MemoryDevice();
        var crashed = AppendLog.Open(media, Options);   // abandoned below, as a killed process's log
        crashed.Append(1, 1, Payload(1, 100));
        crashed.Flush();
        long second = crashed.Append(1, 2, Payload(2, 4000));
        crashed.Append(1, 3, Payload(3, 100));
        media.Raw(0).Slice((int)second, 64).Clear();

        using var log = AppendLog.Open(media, Options);
        var torn = log.Recovery.TornTail;
        Assert.NotNull(torn);
        Assert.Equal(second, torn.Offset);
        Assert.Equal(1, torn.IntactRecordsDropped);
        Assert.Equal(media.SegmentName(0), torn.File);
        Assert.Single(ReadAll(log));
        Assert.Equal(second, log.TailLsn);
    }

    [Fact]
    public void Flush_InjectedIoError_PoisonsTheLogAndKeepsTheError()
    {
        var device = new FaultyDevice(new MemoryDevice(), seed: 3);
        var log = AppendLog.Open(device, Options);
        for (ulong s = 1; s <= 10; s++) log.Append(1, s, Payload(s, 50));
        log.Flush();
        for (ulong s = 11; s <= 20; s++) log.Append(1, s, Payload(s, 50));
        device.FailNextFlush(torn: true);
        var first = Assert.Throws<LogFaultedException>(log.Flush);
        Assert.IsType<IOException>(first.InnerException);
        Assert.Contains("injected", first.Message);
        Assert.True(log.IsFaulted);
        var again = Assert.Throws<LogFaultedException>(() => log.TryAppend(1, 21, Payload(21, 5), out _));
        Assert.Same(first.InnerException, again.InnerException);
        Assert.Throws<LogFaultedException>(log.Flush);
        Assert.False(log.IsDurable(log.TailLsn - 1));
        log.Dispose();
        device.Crash(CrashMode.LoseUnflushed);

        using var reopened = AppendLog.Open(device, Options);
        var recovered = ReadAll(reopened);
        Assert.InRange(recovered.Count, 10, 20);
        for (int i = 0; i < recovered.Count; i++) Assert.Equal((ulong)(i + 1), recovered[i].Sequence);
    }

    [Fact]
    public void FullDevice_SegmentAllocationFails_ClearErrorAndLogStaysReadable()
    {
        var inner = new MemoryDevice();
        var device = new FaultyDevice(inner, seed: 5) { CapacityBytes = 3L * SegmentSize };
        var log = AppendLog.Open(device, Options);
        var written = new List<Written>();
        ulong sequence = 1;
        var full = Assert.Throws<StorageFullException>((Action)(() =>
        {
            while (true)
            {
                byte[] payload = Payload(sequence, 500);
                written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
                sequence++;
                if (sequence % 4 == 0) log.Flush();
            }
        }));
        Assert.Contains("no space", full.Message);
        Assert.Contains(device.SegmentName(3), full.Message);
        Assert.False(log.IsFaulted);
        Assert.Equal(3, log.SegmentCount);
        log.Flush();
        AssertSame(written, ReadAll(log), written.Count);
        log.Dispose();
        using var reopened = AppendLog.Open(device, Options);
        AssertSame(written, ReadAll(reopened), written.Count);
        Assert.Equal(3, inner.ListSegments().Length);
    }

    [Fact]
    public void FullDevice_WithRecycling_CheckpointedLogKeepsGoingOnReusedSegments()
    {
        // Room for 4 segments: 2 in the log, 1 spare, 1 retired. Reuse needs no new space, so a log that is
        // checkpointed never hits the full disk.
        var inner = new MemoryDevice();
        var device = new FaultyDevice(inner, seed: 7) { CapacityBytes = 4L * SegmentSize };
        var log = AppendLog.Open(device, Options);
        var written = new List<Written>();
        for (ulong sequence = 1; sequence <= 400; sequence++)
        {
            byte[] payload = Payload(sequence, 500);
            written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
            if (sequence % 4 == 0) log.Flush();
            if (log.SegmentCount > 2) log.DeleteBefore(sequence);
        }
        Assert.True(log.SegmentsReused > 10);
        Assert.Null(log.SpareError);
        log.Dispose();
        using var reopened = AppendLog.Open(device, Options);
        var kept = written.Where(w => w.Lsn >= reopened.FirstLsn).ToList();
        AssertSame(kept, ReadAll(reopened), kept.Count);
        Assert.True(inner.UsedBytes <= 4L * SegmentSize);
    }

    [Fact]
    public void CreateSegment_InjectedIoError_ReportedWithoutPoisoning()
    {
        var device = new FaultyDevice(new MemoryDevice(), seed: 6);
        using var log = AppendLog.Open(device, Options);
        device.FailNextCreate();
        ulong s = 1;
        var e = Assert.Throws<IOException>((Action)(() =>
        {
            while (true) log.Append(1, s, Payload(s++, 700));
        }));
        Assert.Contains("injected", e.Message);
        Assert.False(log.IsFaulted);
        log.Append(1, s, Payload(s, 700));   // the next attempt creates the segment
        log.Flush();
    }

    [Fact]
    public void FlipBit_InFlushedRecordFollowedByLaterFlush_IsCorruptionAfterCrash()
    {
        // No clean close: the proof that record 1 was acknowledged is record 3's vouch.
        var device = new FaultyDevice(new MemoryDevice(), seed: 8);
        var log = AppendLog.Open(device, Options);
        long first = log.Append(1, 1, Payload(1, 100));
        log.Append(1, 2, Payload(2, 100));
        log.Flush();
        log.Append(1, 3, Payload(3, 100));
        log.Flush();
        device.Crash(CrashMode.LoseUnflushed);
        log.Dispose();
        device.FlipBit(0, (int)first + 40, 3);
        var e = Assert.Throws<LogCorruptionException>(() => AppendLog.Open(device, Options));
        Assert.Equal(first, e.Offset);
        Assert.Contains("acknowledged", e.Message);
    }
}
