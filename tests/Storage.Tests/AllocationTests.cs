using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;

namespace Chainspace.Storage.Tests;

/// <summary>
/// Append and flush allocate nothing (an exact per-thread byte count, not a timing). Preparing the next
/// segment does allocate (about 1.2 KB of handles for a mapped file, once per segment, 64 MiB by default),
/// so the measured window starts with the spare ready.
/// </summary>
public sealed class AllocationTests
{
    [Theory]
    [InlineData("memory")]
    [InlineData("mapped")]
    [InlineData("buffered")]
    [InlineData("buffered-recycled")]
    [InlineData("memory-recycled")]
    public void Log_AppendAndFlush_AllocateNothing(string kind)
    {
        using var directory = new TempDirectory("alloc");
        IStorageDevice device = kind switch
        {
            "mapped" => new MmapDevice(directory.Path, MmapWriteMode.Mapped),
            "buffered" or "buffered-recycled" => new MmapDevice(directory.Path, MmapWriteMode.Buffered),
            _ => new MemoryDevice(),
        };
        using var log = AppendLog.Open(device, new LogOptions { SegmentSize = 4 << 20 });
        byte[] payload = new byte[256];
        ulong sequence = 1;
        if (kind.EndsWith("-recycled", StringComparison.Ordinal))
        {
            // Into a reused segment, with the next one (reused too) ready.
            while (!log.CurrentSegmentRecycled)
            {
                log.Append(1, sequence++, new byte[64 * 1024]);
                log.Flush();
                if (log.SegmentCount > 2) log.DeleteBefore(sequence);
            }
            Assert.True(log.RetiredSegmentCount > 0);
        }
        log.PrepareNextSegment();
        Assert.Equal(0, Allocations.Fewest(() => AppendAndFlush(log, payload, ref sequence)));
    }

    private static void AppendAndFlush(AppendLog log, byte[] payload, ref ulong sequence)
    {
        for (int i = 0; i < 2_000; i++)
        {
            Assert.True(log.TryAppend(1, sequence++, payload, out long lsn));
            if (i % 64 == 0) log.Flush();
            Assert.False(log.IsDurable(log.TailLsn));
        }
        log.Flush();
    }
}
