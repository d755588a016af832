using System.Diagnostics;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using Xunit.Abstractions;
using static Chainspace.Storage.Tests.LogTestKit;

namespace Chainspace.Storage.Tests;

/// <summary>Runs only where a 1 MiB tmpfs can be mounted (root, or CAP_SYS_ADMIN); otherwise skipped with the reason.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (!Tmpfs.CanMount(out string reason)) Skip = reason;
    }
}

/// <summary>Mounts a small tmpfs (a real file system that fills up) for the full-disk test.</summary>
public static class Tmpfs
{
    private static readonly Lazy<(bool Ok, string Reason)> Probe = new(ProbeMount);

    public static bool CanMount(out string reason)
    {
        (bool ok, reason) = Probe.Value;
        return ok;
    }

    public static bool TryMount(string directory, string size, out string error)
    {
        Directory.CreateDirectory(directory);
        return Run("mount", ["-t", "tmpfs", "-o", "size=" + size, "tmpfs", directory], out error);
    }

    public static void Unmount(string directory)
    {
        if (!Run("umount", [directory], out _)) Run("umount", ["-l", directory], out _);
    }

    private static (bool, string) ProbeMount()
    {
        if (!OperatingSystem.IsLinux()) return (false, "skipped: mounting a tmpfs needs Linux; the full-disk case runs on the fault-injecting device instead (FaultyDeviceLogTests)");
        string directory = Path.Combine(Path.GetTempPath(), "chainspace-tmpfs-probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            if (!TryMount(directory, "64k", out string error))
            {
                return (false, $"skipped: cannot mount a tmpfs here ({error.Trim()}); needs root or CAP_SYS_ADMIN. " +
                    "The full-disk case runs on the fault-injecting device instead (FaultyDeviceLogTests.FullDevice_*)");
            }
            Unmount(directory);
            return (true, "");
        }
        finally
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (IOException)
            {
            }
        }
    }

    private static bool Run(string program, string[] arguments, out string error)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                error = $"{program} did not finish within 10 s";
                return false;
            }
            error = process.StandardError.ReadToEnd();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            error = $"{program} is not available: {e.Message}";
            return false;
        }
    }
}

public sealed class TmpfsFullDiskTests(ITestOutputHelper output)
{
    private const int SegmentSize = 256 * 1024;

    [TmpfsFact]
    public void FullDisk_RealTmpfs_SegmentAllocationFailsClearlyAndLogStaysReadable()
    {
        using var directory = new TempDirectory("tmpfs");
        string mount = Path.Combine(directory.Path, "mnt");
        Assert.True(Tmpfs.TryMount(mount, "1m", out string error), error);
        try
        {
            output.WriteLine($"full-disk test on a real 1 MiB tmpfs at {mount}");
            var options = new LogOptions { SegmentSize = SegmentSize };
            var written = new List<Written>();
            var log = AppendLog.Open(new MmapDevice(mount), options);
            ulong sequence = 1;
            StorageFullException? full = null;
            try
            {
                while (sequence < 100_000)
                {
                    byte[] payload = Payload(sequence, 3000);
                    written.Add(new Written(log.Append(1, sequence, payload), sequence, payload));
                    if (sequence % 10 == 0) log.Flush();
                    sequence++;
                }
            }
            catch (StorageFullException e)
            {
                full = e;
            }
            Assert.NotNull(full);
            output.WriteLine(full.Message);
            Assert.Contains("segment-", full.Message);
            Assert.Contains("errno 28", full.Message);
            Assert.False(log.IsFaulted);
            log.Flush();
            AssertSame(written, ReadAll(log), written.Count);
            log.Dispose();

            using var reopened = AppendLog.Open(new MmapDevice(mount), options);
            AssertSame(written, ReadAll(reopened), written.Count);
            Assert.Null(reopened.Recovery.TornTail);
        }
        finally
        {
            Tmpfs.Unmount(mount);
        }
    }
}
