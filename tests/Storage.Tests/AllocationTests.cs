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
    [InlineData(false)]
    [InlineData(true)]
    public void Log_AppendAndFlush_AllocateNothing(bool mapped)
    {
        using var directory = new TempDirectory("alloc");
        IStorageDevice device = mapped ? new MmapDevice(directory.Path) : new MemoryDevice();
        using var log = AppendLog.Open(device, new LogOptions { SegmentSize = 4 << 20 });
        byte[] payload = new byte[256];
        ulong sequence = 1;
        for (int i = 0; i < 100; i++) log.TryAppend(1, sequence++, payload, out _);
        log.Flush();
        log.PrepareNextSegment();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(log.TryAppend(1, sequence++, payload, out long lsn));
            if (i % 64 == 0) log.Flush();
            _ = log.IsDurable(lsn);
        }
        log.Flush();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
