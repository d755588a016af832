using System.Globalization;
using System.Runtime.InteropServices;
using Chainspace.Core;
using Chainspace.Storage.Log;

namespace Chainspace.Storage.Devices;

/// <summary>
/// Segments as files in one directory (<c>segment-0000000042.log</c>), memory-mapped for reading and, in
/// <see cref="MmapWriteMode.Mapped"/> mode, for writing (see <see cref="MmapWriteMode"/>). A segment is created
/// under a temporary name, its full size reserved with posix_fallocate (so a full disk fails here, with ENOSPC,
/// and never later as SIGBUS inside a mapped write), its first bytes written and synced, then renamed into
/// place and the directory synced. A retired segment is renamed to <c>retired-0000000042.log</c> (its old id) and
/// keeps its blocks; reusing it renames it to the new segment's temporary name, writes and syncs the new header,
/// and renames it into place, so its blocks are already written when records go there (no unwritten-extent
/// conversion in the flushes that follow).
/// </summary>
public sealed class MmapDevice : IStorageDevice
{
    private const string Prefix = "segment-";
    private const string Suffix = ".log";
    private const string TempSuffix = ".tmp";
    private const string RetiredPrefix = "retired-";

    /// <summary>
    /// Bytes of a buffered segment's staging window. Appends copy into it and a flush pwrites the new bytes from it,
    /// so it stays in the CPU caches (a whole-segment write buffer did not, and cost 1.1-2.1x against FileStream).
    /// </summary>
    internal const int StageSize = 1 << 20;

    /// <summary>Buffered mode keeps two staging buffers in steady state (current segment and spare); more are dropped.</summary>
    private const int StagesKept = 2;

    private readonly List<string> _removedTemporaryFiles = new();
    private readonly Stack<byte[]> _stages = new();

    public MmapDevice(string directory, MmapWriteMode writeMode = MmapWriteMode.Buffered)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        WriteMode = writeMode;
        Directory.CreateDirectory(directory);
        Location = Path.GetFullPath(directory);
        // A crash during CreateSegment leaves a temporary file that was never renamed into place:
        // it holds nothing the log ever acknowledged.
        foreach (string tmp in Directory.GetFiles(Location, Prefix + "*" + Suffix + TempSuffix))
        {
            File.Delete(tmp);
            _removedTemporaryFiles.Add(tmp);
        }
        if (_removedTemporaryFiles.Count > 0) Posix.SyncDirectory(Location);
    }

    public string Location { get; }
    public MmapWriteMode WriteMode { get; }

    /// <summary>Temporary files of interrupted segment creations, removed when this device was opened.</summary>
    public IReadOnlyList<string> RemovedTemporaryFiles => _removedTemporaryFiles;

    /// <summary>Called after each step of retiring or reusing a segment; <see cref="FaultyDevice"/> throws from it to crash there.</summary>
    internal Action<RecycleStep>? RecycleStepHook { get; set; }

    public string SegmentName(long id) => Path.Combine(Location, Prefix + id.ToString("D10", CultureInfo.InvariantCulture) + Suffix);

    public long[] ListSegments() => List(Prefix);

    public long[] ListRetired() => List(RetiredPrefix);

    private string RetiredName(long id) => Path.Combine(Location, RetiredPrefix + id.ToString("D10", CultureInfo.InvariantCulture) + Suffix);

    private long[] List(string prefix)
    {
        var ids = new List<long>();
        foreach (string path in Directory.GetFiles(Location, prefix + "*" + Suffix))
        {
            string name = Path.GetFileName(path);
            string digits = name[prefix.Length..^Suffix.Length];
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long id)) continue;
            if ((prefix == Prefix ? SegmentName(id) : RetiredName(id)) == path) ids.Add(id);
        }
        ids.Sort();
        return ids.ToArray();
    }

    public IStorageSegment CreateSegment(long id, int length, ReadOnlySpan<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (header.Length > length) throw new ArgumentException("header is longer than the segment", nameof(header));
        string path = SegmentName(id);
        if (File.Exists(path)) throw new IOException($"segment '{path}' already exists");
        string tmp = path + TempSuffix;
        var file = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        try
        {
            Reserve(file, path, length);
            if (!header.IsEmpty) RandomAccess.Write(file.SafeFileHandle, header, 0);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            file.Dispose();
            File.Delete(tmp);
            throw;
        }
        file.Dispose();
        File.Move(tmp, path);
        Posix.SyncDirectory(Location);
        return MmapSegment.Map(this, id, path, length, forWriting: true);
    }

    public IStorageSegment OpenSegment(long id, int length)
    {
        string path = SegmentName(id);
        long size = new FileInfo(path).Length;
        if (size > length) throw new IOException($"segment '{path}' is {size} bytes, more than the configured segment size {length}");
        if (size < length)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            Reserve(file, path, length);
            file.Flush(flushToDisk: true);
        }
        return MmapSegment.Map(this, id, path, length, forWriting: false);
    }

    public void DeleteSegment(long id)
    {
        File.Delete(SegmentName(id));
        Posix.SyncDirectory(Location);
    }

    public void RetireSegment(long id)
    {
        File.Move(SegmentName(id), RetiredName(id));
        RecycleStepHook?.Invoke(RecycleStep.Retired);
        Posix.SyncDirectory(Location);
    }

    public IStorageSegment ReuseSegment(long retiredId, long id, int length, ReadOnlySpan<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (header.Length > length) throw new ArgumentException("header is longer than the segment", nameof(header));
        string path = SegmentName(id);
        if (File.Exists(path)) throw new IOException($"segment '{path}' already exists");
        string retired = RetiredName(retiredId);
        long size = new FileInfo(retired).Length;
        if (size != length) throw new IOException($"retired segment '{retired}' is {size} bytes, not {length}");
        // Under the temporary name, a crash from here until the rename leaves a file the next open deletes.
        string tmp = path + TempSuffix;
        File.Move(retired, tmp, overwrite: true);
        RecycleStepHook?.Invoke(RecycleStep.Taken);
        using (var file = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0))
        {
            if (!header.IsEmpty) RandomAccess.Write(file.SafeFileHandle, header, 0);
            file.Flush(flushToDisk: true);
        }
        RecycleStepHook?.Invoke(RecycleStep.HeaderWritten);
        File.Move(tmp, path);
        RecycleStepHook?.Invoke(RecycleStep.Renamed);
        Posix.SyncDirectory(Location);
        return MmapSegment.Map(this, id, path, length, forWriting: true);
    }

    public void DeleteRetired(long retiredId)
    {
        File.Delete(RetiredName(retiredId));
        Posix.SyncDirectory(Location);
    }

    public void Dispose()
    {
        // Segments own their mappings; the directory needs no closing.
    }

    /// <summary>
    /// A staging buffer of at least <paramref name="minimumLength"/> bytes for a buffered segment: one a completed
    /// segment gave back, or a new one (<see cref="StageSize"/>, or the next power of two for an outsized record).
    /// </summary>
    internal byte[] RentStage(int minimumLength)
    {
        lock (_stages)
        {
            if (_stages.TryPeek(out var top) && top.Length >= minimumLength) return _stages.Pop();
        }
        Invariant.Check(minimumLength <= LogFormat.MaxSegmentSize);
        int length = minimumLength <= StageSize ? StageSize : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)minimumLength);
        return GC.AllocateUninitializedArray<byte>(length, pinned: true);
    }

    /// <summary>Takes back the staging buffer of a segment that will not be written again.</summary>
    internal void ReturnStage(byte[] stage)
    {
        lock (_stages)
        {
            if (_stages.Count < StagesKept) _stages.Push(stage);
        }
    }

    /// <summary>Reserves [0, length) for the file: real blocks, all reading as zero.</summary>
    private static void Reserve(FileStream file, string path, int length)
    {
        if (Posix.Available)
        {
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();
            int error;
            do error = Posix.PosixFallocate(fd, 0, length);
            while (error == Posix.EINTR);
            if (error == 0) return;
            if (error is Posix.ENOSPC or Posix.EFBIG) throw Full(path, length, error);
            if (error != Posix.EOPNOTSUPP) throw new IOException($"cannot reserve {length} bytes for segment '{path}': {Posix.Describe(error)}");
        }
        WriteZeros(file, path, length);
    }

    /// <summary>Where fallocate is missing: write the zeros, which allocates the blocks just the same.</summary>
    private static void WriteZeros(FileStream file, string path, int length)
    {
        long start = file.Length;
        var zeros = new byte[Math.Min(1 << 20, length)];
        try
        {
            for (long at = start; at < length; at += zeros.Length)
            {
                int n = (int)Math.Min(zeros.Length, length - at);
                RandomAccess.Write(file.SafeFileHandle, zeros.AsSpan(0, n), at);
            }
        }
        catch (IOException e) when ((e.HResult & 0xFFFF) == Posix.ENOSPC || e.Message.Contains("space", StringComparison.OrdinalIgnoreCase))
        {
            throw Full(path, length, Posix.ENOSPC, e);
        }
    }

    private static StorageFullException Full(string path, int length, int errno, Exception? inner = null)
    {
        string free;
        try
        {
            free = new DriveInfo(Path.GetDirectoryName(path)!).AvailableFreeSpace.ToString(CultureInfo.InvariantCulture) + " bytes";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            free = "unknown";
        }
        return new StorageFullException(
            $"cannot create log segment '{path}': reserving {length} bytes failed with {Posix.Describe(errno)}; " +
            $"free space on that file system: {free}. The existing segments are intact.", inner);
    }
}
