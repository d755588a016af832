using System.Diagnostics;
using Chainspace.Storage.CrashChild;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using Xunit.Abstractions;

namespace Chainspace.Storage.Tests;

/// <summary>
/// A real process appending to a real mapped log is killed with SIGKILL at an arbitrary point (usually in
/// the middle of copying a record). The recovered log must hold every record whose flush had returned
/// (the child prints each flushed sequence), intact and in order.
/// </summary>
public sealed class ProcessKillTests(ITestOutputHelper output)
{
    private const int SegmentSize = 256 * 1024;
    private const int LargeSegmentSize = 4 << 20;   // several buffered-mode staging windows per segment
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, 5, MmapWriteMode.Mapped)]
    [InlineData(2, 60, MmapWriteMode.Mapped)]
    [InlineData(3, 400, MmapWriteMode.Mapped)]
    [InlineData(4, 5, MmapWriteMode.Buffered)]
    [InlineData(5, 200, MmapWriteMode.Buffered)]
    [InlineData(6, 700, MmapWriteMode.Buffered, LargeSegmentSize)]
    [InlineData(7, 1500, MmapWriteMode.Buffered, LargeSegmentSize)]
    [InlineData(8, 300, MmapWriteMode.Buffered, SegmentSize, true)]
    [InlineData(9, 1100, MmapWriteMode.Buffered, SegmentSize, true)]
    [InlineData(10, 700, MmapWriteMode.Mapped, SegmentSize, true)]
    public void Kill9_MidAppend_RecoveredPrefixHoldsEveryFlushedRecord(int seed, int flushesBeforeKill, MmapWriteMode mode, int segmentSize = SegmentSize, bool recycle = false)
    {
        using var directory = new TempDirectory("kill9");
        ulong maxFlushed = 0;
        using (var child = StartChild(directory.Path, seed, mode, segmentSize, recycle))
        {
            try
            {
                Assert.Equal("ready", ReadLine(child));
                for (int flushes = 0; flushes < flushesBeforeKill;)
                {
                    string line = ReadLine(child);
                    if (!line.StartsWith("flushed ", StringComparison.Ordinal)) continue;
                    maxFlushed = ulong.Parse(line["flushed ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                    flushes++;
                }
            }
            finally
            {
                child.Kill();   // SIGKILL on Unix: no handler, no flush, no seal
                Assert.True(child.WaitForExit(10_000), "the child did not die within 10 s of SIGKILL");
            }
        }

        using var log = AppendLog.Open(new MmapDevice(directory.Path, mode), new LogOptions { SegmentSize = segmentSize });
        output.WriteLine($"killed after flush of sequence {maxFlushed}; {log.Recovery}");
        ulong expected = 1;
        if (recycle)
        {
            // Checkpoints dropped the oldest records; the segment the kill hit may be a reused one.
            Assert.True(log.Recovery.RetiredSegments > 0 || log.Recovery.StaleTail != null, $"no sign of recycling: {log.Recovery}");
            foreach (var first in log.ReadAll())
            {
                expected = first.Sequence;
                break;
            }
            Assert.True(expected > 1);
        }
        var buffer = new byte[CrashWorkload.MaxPayload];
        foreach (var record in log.ReadAll())
        {
            Assert.Equal(CrashWorkload.RecordType, record.Type);
            Assert.Equal(expected, record.Sequence);
            int length = CrashWorkload.Fill(expected, buffer);
            Assert.True(record.Payload.SequenceEqual(buffer.AsSpan(0, length)), $"record {expected} differs");
            expected++;
        }
        ulong recovered = expected - 1;
        Assert.True(recovered >= maxFlushed, $"recovered up to sequence {recovered}, but the child had flushed {maxFlushed}");
    }

    private static Process StartChild(string directory, int seed, MmapWriteMode mode, int segmentSize, bool recycle)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Chainspace.Storage.CrashChild.dll");
        Assert.True(File.Exists(dll), $"the child program is missing: {dll}");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(segmentSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("10000000");
        start.ArgumentList.Add(mode.ToString());
        if (recycle) start.ArgumentList.Add("recycle");
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
    }

    private static string ReadLine(Process child)
    {
        var read = child.StandardOutput.ReadLineAsync();
        if (!read.Wait(LineTimeout)) throw new TimeoutException($"the child printed nothing for {LineTimeout.TotalSeconds} s");
        return read.Result ?? throw new InvalidOperationException("the child exited early: " + child.StandardError.ReadToEnd());
    }

    internal static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
