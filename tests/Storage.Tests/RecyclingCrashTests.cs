using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>
/// Segment recycling under crashes: at every step of retiring and reusing a segment, in every crash mode, on memory and
/// on real files, and in seeded random workloads. After every crash the log must reopen to a run of exactly the
/// records appended (same LSNs, sequences and bytes: nothing stale, nothing reordered) that holds every record that
/// was durable when the crash came.
/// </summary>
public sealed class RecyclingCrashTests
{
    private const int SegmentSize = 8192;
    private static readonly LogOptions Options = new() { SegmentSize = SegmentSize };

    public static TheoryData<RecycleStep, CrashMode, bool> StepsModesDevices()
    {
        var data = new TheoryData<RecycleStep, CrashMode, bool>();
        foreach (var step in Enum.GetValues<RecycleStep>())
        {
            foreach (var mode in Enum.GetValues<CrashMode>())
            {
                data.Add(step, mode, false);
                data.Add(step, mode, true);
            }
        }
        return data;
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int seed = 1; seed <= 100; seed++) data.Add(seed);
        return data;
    }

    /// <summary>The state of one workload across crashes: what was appended and what must survive.</summary>
    private sealed class Workload
    {
        public readonly List<Written> Expected = new();
        public long DurableLsn;
        public ulong Sequence = 1;

        public void Append(AppendLog log, int length)
        {
            byte[] payload = Payload(Sequence, length);
            Expected.Add(new Written(log.Append(1, Sequence, payload), Sequence, payload));
            Sequence++;
        }

        /// <summary>Opens the log after a crash and checks it; drops from <see cref="Expected"/> what was lost (never acknowledged).</summary>
        public AppendLog Reopen(IStorageDevice device, string context)
        {
            var log = AppendLog.Open(device, Options);
            var recovered = ReadAll(log);
            var kept = Expected.Where(w => w.Lsn >= log.FirstLsn).ToList();
            int mustHave = kept.Count(w => w.Lsn < DurableLsn);
            Assert.True(recovered.Count >= mustHave, $"{context}: {recovered.Count} records recovered, {mustHave} were durable; {log.Recovery}");
            AssertSame(kept, recovered, recovered.Count);
            int lost = kept.Count - recovered.Count;
            Expected.RemoveRange(Expected.Count - lost, lost);
            DurableLsn = log.DurableLsn;
            Sequence = log.HasRecords ? log.LastSequence + 1 : Sequence;
            return log;
        }
    }

    [Theory]
    [MemberData(nameof(StepsModesDevices))]
    public void Crash_AtEveryRecycleStep_DurableRecordsSurviveAndNothingStaleAppears(RecycleStep step, CrashMode mode, bool files)
    {
        using var directory = new TempDirectory("recycle-crash");
        int seed = 100 * (int)step + 10 * (int)mode + (files ? 1 : 0);
        var memory = new MemoryDevice();
        FaultyDevice NewDevice() => new(files ? new MmapDevice(directory.Path) : memory, seed);   // a new process: temporary files go
        var device = NewDevice();
        var work = new Workload();
        var log = AppendLog.Open(device, Options);
        var random = new Random(seed);

        // Fill the retired pool, then stop at the step on the next retirement or reuse.
        while (log.RetiredSegmentCount < Options.RecycleSegments) Step(log, work, random);
        int reusedBefore = (int)log.SegmentsReused;
        device.CrashAtNextRecycleStep(step);
        var crash = Assert.Throws<SimulatedCrashException>(() =>
        {
            for (int i = 0; i < 10_000; i++) Step(log, work, random);
        });
        Assert.Contains(step.ToString(), crash.Message);
        work.DurableLsn = log.DurableLsn;   // a flush that reached the step had completed
        device.Crash(mode);
        log.Dispose();
        device.Dispose();

        device = NewDevice();
        log = work.Reopen(device, $"crash after {step} ({mode}, {(files ? "files" : "memory")})");
        // The log goes on through more reuses, and reopens cleanly.
        long reused = log.SegmentsReused;
        while (log.SegmentsReused < reused + 3) Step(log, work, random);
        log.Flush();
        work.DurableLsn = log.DurableLsn;
        log.Dispose();
        device.Dispose();
        device = NewDevice();
        using (log = work.Reopen(device, "clean reopen"))
        {
            Assert.Null(log.Recovery.TornTail);
            Assert.True(reusedBefore >= 0);
        }
        device.Dispose();
    }

    /// <summary>Random appends, flushes and retirements, each round ended by a crash of a seed-drawn kind, sometimes at a recycling step.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Crash_RandomWorkloadWithRecycling_DurableRecordsSurviveAndNothingStaleAppears(int seed) => RunRandomWorkload(seed, new Coverage());

    /// <summary>The random workload reaches what it is meant to test: crashes at steps, reused segments, both kinds of recycled tails.</summary>
    [Fact]
    public void Crash_RandomWorkloadWithRecycling_CoversStepsReuseAndRecycledTails()
    {
        var coverage = new Coverage();
        for (int seed = 1; seed <= 100; seed++) RunRandomWorkload(seed, coverage);
        Assert.True(coverage.StepCrashes >= 20, $"{coverage.StepCrashes} crashes at a recycling step");
        Assert.True(coverage.Reused >= 100, $"{coverage.Reused} segments reused");
        Assert.True(coverage.StaleTails >= 20, $"{coverage.StaleTails} opens ended at stale bytes");
        Assert.True(coverage.RecycledTornTails >= 1, $"{coverage.RecycledTornTails} torn tails in recycled segments");
    }

    private sealed class Coverage
    {
        public int StepCrashes;
        public long Reused;
        public int StaleTails;
        public int RecycledTornTails;

        public void Note(AppendLog log)
        {
            if (log.Recovery.StaleTail != null) StaleTails++;
            if (log.Recovery.TornTail is { } torn && torn.Reason.Contains("recycled", StringComparison.Ordinal)) RecycledTornTails++;
        }
    }

    private static void RunRandomWorkload(int seed, Coverage coverage)
    {
        var random = new Random(seed);
        var memory = new MemoryDevice();
        var device = new FaultyDevice(memory, seed, pageSize: random.Next(2) == 0 ? 512 : 4096);
        var work = new Workload();
        for (int round = 0; round < 6; round++)
        {
            var log = work.Reopen(device, $"seed {seed} round {round}");
            coverage.Note(log);
            if (random.Next(3) == 0) device.CrashAtNextRecycleStep(Enum.GetValues<RecycleStep>()[random.Next(4)]);
            int operations = random.Next(1, 400);
            try
            {
                for (int i = 0; i < operations; i++) Step(log, work, random);
            }
            catch (SimulatedCrashException)
            {
                coverage.StepCrashes++;
            }
            coverage.Reused += log.SegmentsReused;
            work.DurableLsn = log.DurableLsn;
            device.Crash();
            log.Dispose();
            device = new FaultyDevice(memory, seed + round + 1, device.PageSize);
        }
        using var last = work.Reopen(device, $"seed {seed} final");
        coverage.Note(last);
    }

    /// <summary>One random operation: mostly an append (small, sometimes large), sometimes a flush, a checkpoint that retires segments.</summary>
    private static void Step(AppendLog log, Workload work, Random random)
    {
        int roll = random.Next(10);
        if (roll == 0)
        {
            log.Flush();
            return;
        }
        if (roll == 1)
        {
            if (log.SegmentCount > 2) log.DeleteBefore(work.Sequence - (ulong)random.Next(3));
            return;
        }
        work.Append(log, random.Next(4) == 0 ? random.Next(3000) : random.Next(300));
    }
}
