using Chainspace.Storage.Log;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>Segment recycling (LogOptions.RecycleSegments) on every device.</summary>
public abstract partial class LogConformanceTests
{
    private const int RecordPayload = 1200;

    /// <summary>
    /// Appends (flushing every 8 records, retiring segments once there are more than 2) until the log's current
    /// segment is a reused one, then <paramref name="extra"/> more records into it, and flushes. Returns every record
    /// appended; those still in the log are the ones at or after <see cref="AppendLog.FirstLsn"/>.
    /// </summary>
    protected List<Written> AppendIntoRecycledSegment(AppendLog log, int extra, ulong firstSequence = 1)
    {
        var written = new List<Written>();
        ulong sequence = firstSequence;
        void AppendOne()
        {
            byte[] payload = Payload(sequence, RecordPayload);
            written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
            sequence++;
            if (sequence % 8 == 0) log.Flush();
            if (log.SegmentCount > 2) log.DeleteBefore(sequence);
        }
        long reusedBefore = log.SegmentsReused;
        long startSegment = CurrentSegmentOf(log);
        do AppendOne();
        while (log.SegmentsReused == reusedBefore || written[^1].Lsn / SegmentSize == startSegment || !log.CurrentSegmentRecycled);
        for (int i = 0; i < extra; i++) AppendOne();
        log.Flush();
        return written;
    }

    private static long CurrentSegmentOf(AppendLog log) => (log.TailLsn - 1) / SegmentSize;

    protected static List<Written> StillInLog(AppendLog log, List<Written> written) => written.Where(w => w.Lsn >= log.FirstLsn).ToList();

    private byte SegmentVersion(long id) => ReadSegment(id)[8];

    [Fact]
    public void Recycle_SteadyState_ReusedSegmentsReadBackAndReopenWithoutTornTail()
    {
        List<Written> written;
        long tailSegment;
        using (var log = Open())
        {
            written = AppendIntoRecycledSegment(log, extra: 5);
            tailSegment = written[^1].Lsn / SegmentSize;
            Assert.True(log.SegmentsReused >= 1);
            Assert.True(log.CurrentSegmentRecycled);
            AssertSame(StillInLog(log, written), ReadAll(log), StillInLog(log, written).Count);
        }
        Assert.Equal(LogFormat.VersionRecycled, SegmentVersion(tailSegment));
        using (var log = Open())
        {
            var kept = StillInLog(log, written);
            Assert.Null(log.Recovery.TornTail);
            var stale = log.Recovery.StaleTail;
            Assert.NotNull(stale);   // after the seal: the bytes of the segment's previous use
            Assert.Equal(Device.SegmentName(tailSegment), stale.File);
            Assert.True(log.Recovery.RetiredSegments >= 0);
            AssertSame(kept, ReadAll(log), kept.Count);
            Assert.Equal((ulong)written.Count, log.LastSequence);
            // Keep going through more reuses after the reopen.
            written.AddRange(AppendIntoRecycledSegment(log, extra: 3, firstSequence: log.LastSequence + 1));
            kept = StillInLog(log, written);
            AssertSame(kept, ReadAll(log), kept.Count);
        }
        using (var log = Open())
        {
            var kept = StillInLog(log, written);
            Assert.Null(log.Recovery.TornTail);
            AssertSame(kept, ReadAll(log), kept.Count);
            var fromSequence = new List<ulong>();
            foreach (var record in log.ReadFromSequence(0)) fromSequence.Add(record.Sequence);
            Assert.Equal(kept.Select(w => w.Sequence), fromSequence);
        }
    }

    /// <summary>
    /// The truncation property of fresh segments, in a reused one: the last record cut at every offset, the bytes after
    /// the cut being another segment's records at the same offsets (what a previous use leaves), or (every 7th offset)
    /// zeros (a truncated file) or the last record's own bytes shifted (a record of this log at the wrong place). Reopens to exactly
    /// the records before it, as an end of records, never as corruption, and returns nothing stale.
    /// </summary>
    [Fact]
    public void Recycle_EveryOffsetInLastRecordOfRecycledSegment_ReopensToExactlyTheRecordsBefore()
    {
        List<Written> written;
        long firstLsn;
        using (var log = Open())
        {
            written = AppendIntoRecycledSegment(log, extra: 3);
            firstLsn = log.FirstLsn;
        }
        var kept = written.Where(w => w.Lsn >= firstLsn).ToList();
        var last = kept[^1];
        long segment = last.Lsn / SegmentSize;
        int start = (int)(last.Lsn % SegmentSize);
        int end = start + LogFormat.RecordSize(last.Payload.Length);
        Assert.True(start > LogFormat.SegmentHeaderSize);
        byte[] original = ReadSegment(segment);
        Assert.Equal(LogFormat.VersionRecycled, original[8]);
        byte[] other = ReadSegment(segment - 1);   // records of this log, at other LSNs
        Assert.True(original.AsSpan(end + LogFormat.RecordHeaderSize).ContainsAnyExcept((byte)0), "the reused segment holds bytes of its previous use after the records and the seal");

        for (int cut = start; cut < end; cut++)
        {
            for (int variant = 0; variant < 3; variant++)
            {
                // Every offset with another segment's bytes after the cut (what a previous use leaves); every 7th for the rest.
                if (variant != 1 && (cut - start) % 7 != 0) continue;
                var damaged = (byte[])original.Clone();
                // The seal record after the last one would vouch for it: it goes too, as after a crash.
                switch (variant)
                {
                    case 0:
                        damaged.AsSpan(cut).Clear();
                        break;
                    case 1:
                        other.AsSpan(cut).CopyTo(damaged.AsSpan(cut));
                        break;
                    default:
                        original.AsSpan(start, original.Length - start - 8).CopyTo(damaged.AsSpan(start + 8));
                        original.AsSpan(start, cut - start).CopyTo(damaged.AsSpan(start));
                        break;
                }
                if (variant == 0 && cut == start) damaged.AsSpan(end).Clear();
                WriteSegment(segment, damaged);
                using var log = Open();
                AssertSame(kept, ReadAll(log), kept.Count - 1);
                Assert.Null(log.Recovery.TornTail);
                Assert.Equal(last.Lsn, log.TailLsn);
                if (log.Recovery.StaleTail is { } stale)
                {
                    Assert.Equal(Device.SegmentName(segment), stale.File);
                    Assert.Equal(start, stale.Offset);
                    Assert.Equal(last.Lsn, stale.Lsn);
                }
                else
                {
                    Assert.False(damaged.AsSpan(start).ContainsAnyExcept((byte)0));
                }
                log.Dispose();
                WriteSegment(segment, original);
            }
        }
        using (var log = Open()) AssertSame(kept, ReadAll(log), kept.Count);
    }

    [Fact]
    public void Recycle_CorruptionBeforeTailInRecycledSegment_OpenFailsNamingFileAndOffset()
    {
        List<Written> written;
        using (var log = Open()) written = AppendIntoRecycledSegment(log, extra: 10);
        long segment = written[^1].Lsn / SegmentSize;
        var inSegment = written.Where(w => w.Lsn / SegmentSize == segment).ToList();
        Assert.True(inSegment.Count >= 10);
        byte[] original = ReadSegment(segment);
        foreach (var victim in new[] { inSegment[0], inSegment[4], inSegment[^2] })
        {
            int start = (int)(victim.Lsn % SegmentSize);
            foreach (int at in new[] { start, start + 12, start + 100 })
            {
                var damaged = (byte[])original.Clone();
                damaged[at] ^= 0x10;
                WriteSegment(segment, damaged);
                var e = Assert.Throws<LogCorruptionException>(Open);
                Assert.Equal(Device.SegmentName(segment), e.File);
                Assert.Equal(start, e.Offset);
                Assert.Contains($"offset {start}", e.Message);
                Assert.Contains("acknowledged", e.Message);
            }
        }
        WriteSegment(segment, original);
        using (var log = Open()) Assert.Equal(written[^1].Sequence, log.LastSequence);
    }

    [Fact]
    public void Recycle_Disabled_SegmentsAreDeletedAndCreatedFreshAsBefore()
    {
        var options = new LogOptions { SegmentSize = SegmentSize, RecycleSegments = 0 };
        var written = new List<Written>();
        using (var log = AppendLog.Open(Device, options))
        {
            for (ulong s = 1; s <= 300; s++)
            {
                written.Add(new Written(log.Append(1, s, Payload(s, RecordPayload)), s, Payload(s, RecordPayload)));
                if (s % 8 == 0) log.Flush();
                if (log.SegmentCount > 2) Assert.True(log.DeleteBefore(s) > 0);
            }
            Assert.Equal(0, log.SegmentsReused);
            Assert.Equal(0, log.RetiredSegmentCount);
            Assert.Empty(Device.ListRetired());
        }
        foreach (long id in Device.ListSegments()) Assert.Equal(LogFormat.Version, SegmentVersion(id));
        using (var log = AppendLog.Open(Device, options))
        {
            Assert.Null(log.Recovery.TornTail);
            Assert.Null(log.Recovery.StaleTail);
            var kept = StillInLog(log, written);
            AssertSame(kept, ReadAll(log), kept.Count);
        }
    }

    [Fact]
    public void Recycle_TurnedOffOrNewLog_RetiredSegmentsAreDeleted()
    {
        using (var log = Open())
        {
            AppendIntoRecycledSegment(log, extra: 1);
            Assert.Equal(log.RetiredSegmentCount, Device.ListRetired().Length);
            AppendIntoRecycledSegment(log, extra: 1, firstSequence: log.LastSequence + 1);
        }
        int retired = Device.ListRetired().Length;
        Assert.True(retired >= 1);
        using (var log = Open())
        {
            Assert.Equal(retired, log.Recovery.RetiredSegments);
            Assert.Equal(retired, log.RetiredSegmentCount);
        }
        using (var log = AppendLog.Open(Device, new LogOptions { SegmentSize = SegmentSize, RecycleSegments = 0 }))
        {
            Assert.Equal(0, log.Recovery.RetiredSegments);
            Assert.Equal(retired, log.Recovery.DiscardedSegments.Count(d => d.StartsWith("retired segment", StringComparison.Ordinal)));
        }
        Assert.Empty(Device.ListRetired());

        // Without segments the next open makes a new log, whose ids start again at 0: no older file may be reused.
        using (var log = Open())
        {
            AppendIntoRecycledSegment(log, extra: 1, firstSequence: log.LastSequence + 1);
            AppendIntoRecycledSegment(log, extra: 1, firstSequence: log.LastSequence + 1);
        }
        Assert.NotEmpty(Device.ListRetired());
        foreach (long id in Device.ListSegments()) Device.DeleteSegment(id);
        using (var log = Open())
        {
            Assert.True(log.Recovery.CreatedNew);
            Assert.Empty(Device.ListRetired());
            Assert.Equal(0, log.RetiredSegmentCount);
        }
    }
}
