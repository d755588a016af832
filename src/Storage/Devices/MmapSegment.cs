using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Chainspace.Storage.Devices;

/// <summary>
/// One memory-mapped segment file. In <see cref="MmapWriteMode.Mapped"/> mode, <see cref="Flush"/> is
/// msync(MS_SYNC) over the page-aligned range only: on Linux that is vfs_fsync_range(datasync = 1) over the
/// range, an fdatasync limited to the dirty bytes, one system call per flush. In
/// <see cref="MmapWriteMode.Buffered"/> mode it is one pwrite of the range from the write buffer, then
/// fdatasync. Elsewhere than Linux it falls back to flushing the view and fsync.
/// </summary>
internal sealed unsafe class MmapSegment : IStorageSegment
{
    private static readonly int PageSize = Environment.SystemPageSize;

    private readonly FileStream _file;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly MmapWriteMode _mode;
    private readonly MmapDevice _device;
    private byte* _base;
    private byte[]? _writeBuffer;

    private MmapSegment(MmapDevice device, long id, string path, int length, FileStream file, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer)
    {
        _device = device;
        _mode = device.WriteMode;
        Id = id;
        Name = path;
        Length = length;
        _file = file;
        _map = map;
        _view = view;
        _base = basePointer;
    }

    public static MmapSegment Map(MmapDevice device, long id, string path, int length, bool forWriting)
    {
        var mode = device.WriteMode;
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        var access = mode == MmapWriteMode.Mapped ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read;
        try
        {
            map = MemoryMappedFile.CreateFromFile(file, null, length, access, HandleInheritability.None, leaveOpen: true);
            view = map.CreateViewAccessor(0, length, access);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            var segment = new MmapSegment(device, id, path, length, file, map, view, pointer);
            // A new segment is made off the appender's path (by a flush): give it its write buffer now, so the
            // first append into it does not allocate 'length' bytes.
            if (forWriting && mode == MmapWriteMode.Buffered) segment._writeBuffer = device.RentWriteBuffer(length);
            return segment;
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

    public ReadOnlySpan<byte> Read(int offset, int length)
    {
        CheckRange(offset, length);
        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    public Span<byte> GetWriteSpan(int offset, int length)
    {
        CheckRange(offset, length);
        if (_mode == MmapWriteMode.Mapped) return new Span<byte>(_base + offset, length);
        var buffer = _writeBuffer ??= _device.RentWriteBuffer(Length);
        return buffer.AsSpan(offset, length);
    }

    public void Flush(int offset, int length)
    {
        CheckRange(offset, length);
        if (length == 0) return;
        if (_mode == MmapWriteMode.Buffered)
        {
            var buffer = _writeBuffer ?? throw new InvalidOperationException($"flush of '{Name}' [{offset}, +{length}) covers bytes never written");
            RandomAccess.Write(_file.SafeFileHandle, buffer.AsSpan(offset, length), offset);
            SyncData();
            return;
        }
        if (!Posix.Available)
        {
            _view.Flush();
            _file.Flush(flushToDisk: true);
            return;
        }
        int start = offset & ~(PageSize - 1);
        if (Posix.Msync(_base + start, (nuint)(offset + length - start), Posix.MsSync) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"msync of '{Name}' bytes [{offset}, {offset + length}) failed: {Posix.Describe(errno)}");
        }
    }

    public void Sync()
    {
        CheckRange(0, 0);
        if (_mode == MmapWriteMode.Mapped && Posix.Available)
        {
            if (Posix.Msync(_base, (nuint)Length, Posix.MsSync) != 0)
            {
                throw new IOException($"msync of '{Name}' failed: {Posix.Describe(Marshal.GetLastPInvokeError())}");
            }
            return;
        }
        if (_mode == MmapWriteMode.Mapped) _view.Flush();
        SyncData();
    }

    public void EndWrites()
    {
        // Reads never use the write buffer, so a completed segment's can serve the next one at once.
        var buffer = Interlocked.Exchange(ref _writeBuffer, null);
        if (buffer != null) _device.ReturnWriteBuffer(buffer);
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        EndWrites();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        _file.Dispose();
    }

    private void SyncData()
    {
        if (!Posix.Available)
        {
            _file.Flush(flushToDisk: true);
            return;
        }
        if (Posix.Fdatasync((int)_file.SafeFileHandle.DangerousGetHandle()) != 0)
        {
            throw new IOException($"fdatasync of '{Name}' failed: {Posix.Describe(Marshal.GetLastPInvokeError())}");
        }
    }

    private void CheckRange(int offset, int length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset)) ThrowRange(offset, length);
    }

    private void ThrowRange(int offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside segment '{Name}' of {Length} bytes");
}
