using System.Runtime.InteropServices;

namespace Chainspace.Storage.Devices;

/// <summary>
/// The few libc calls the file device needs that .NET does not expose with the precision we need:
/// posix_fallocate (a real reservation with its errno; FileStreamOptions.PreallocationSize ignores most
/// failures), msync over a byte range, fdatasync, and fsync of a directory.
/// </summary>
internal static unsafe partial class Posix
{
    private const string Libc = "libc";

    public const int MsSync = 4;      // MS_SYNC on Linux
    public const int ORdOnly = 0;
    public const int ENOSPC = 28;
    public const int EFBIG = 27;
    public const int EOPNOTSUPP = 95;
    public const int EINTR = 4;

    /// <summary>Returns 0 or an errno value (it does not set errno).</summary>
    [LibraryImport(Libc, EntryPoint = "posix_fallocate")]
    public static partial int PosixFallocate(int fd, long offset, long length);

    [LibraryImport(Libc, EntryPoint = "msync", SetLastError = true)]
    public static partial int Msync(void* address, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(int fd);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    public static bool Available => OperatingSystem.IsLinux();

    public static string Describe(int errno) => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";

    /// <summary>fsync of a directory, so that a created, renamed or deleted entry survives a crash.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!Available) return;   // Windows has no directory fsync; NTFS journals the metadata.
        int fd = Open(directory, ORdOnly);
        if (fd < 0) throw new IOException($"cannot open directory '{directory}' to sync it: {Describe(Marshal.GetLastPInvokeError())}");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory '{directory}' failed: {Describe(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            Close(fd);
        }
    }
}
