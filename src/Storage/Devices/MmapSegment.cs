using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Chainspace.Storage.Devices;

/// <summary>
/// One memory-mapped segment file. <see cref="Flush"/> is msync(MS_SYNC) over the page-aligned range only:
/// on Linux that is vfs_fsync_range(datasync = 1) over the range, i.e. an fdatasync limited to the dirty
/// bytes, so one system call per flush and no second barrier. Elsewhere it falls back to flushing the
/// view and fsync.
/// </summary>
internal sealed unsafe class MmapSegment : IStorageSegment
{
    private static readonly int PageSize = Environment.SystemPageSize;

    private readonly FileStream _file;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    private MmapSegment(long id, string path, int length, FileStream file, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer)
    {
        Id = id;
        Name = path;
        Length = length;
        _file = file;
        _map = map;
        _view = view;
        _base = basePointer;
    }

    public static MmapSegment Map(long id, string path, int length)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(file, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new MmapSegment(id, path, length, file, map, view, pointer);
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public long Id { get; }
    public string Name { get; }
    public int Length { get; }

    public Span<byte> GetSpan(int offset, int length)
    {
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset)) ThrowRange(offset, length);
        ObjectDisposedException.ThrowIf(_base == null, this);
        return new Span<byte>(_base + offset, length);
    }

    public void Flush(int offset, int length)
    {
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset)) ThrowRange(offset, length);
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (length == 0) return;
        if (!Posix.Available)
        {
            _view.Flush();
            _file.Flush(flushToDisk: true);
            return;
        }
        int start = offset & ~(PageSize - 1);
        nuint span = (nuint)(offset + length - start);
        if (Posix.Msync(_base + start, span, Posix.MsSync) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"msync of '{Name}' bytes [{offset}, {offset + length}) failed: {Posix.Describe(errno)}");
        }
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        _file.Dispose();
    }

    private void ThrowRange(int offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside segment '{Name}' of {Length} bytes");
}
