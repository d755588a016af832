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
    public void Log_AppendAndFlush_AllocateNothing(string kind)
    {
        using var directory = new TempDirectory("alloc");
        IStorageDevice device = kind switch
        {
            "mapped" => new MmapDevice(directory.Path, MmapWriteMode.Mapped),
            "buffered" => new MmapDevice(directory.Path, MmapWriteMode.Buffered),
            _ => new MemoryDevice(),
        };
        using var log = AppendLog.Open(device, new LogOptions { SegmentSize = 4 << 20 });
        byte[] payload = new byte[256];
        ulong sequence = 1;
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
