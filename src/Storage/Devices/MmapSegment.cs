using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Chainspace.Core;

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
    private readonly object _stageLock = new();
    private byte* _base;

    // Buffered mode: the staging window and the staged bytes no pwrite has covered yet (see the class comment).
    private byte[]? _stage;
    private int _stageStart;
    private int _pendingLo;
    private int _pendingHi;
    private bool _written;
    private IOException? _spillError;

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
            // A new segment is made off the appender's path (by a flush): give it its staging buffer now, so the
            // first append into it does not allocate.
            if (forWriting && mode == MmapWriteMode.Buffered) segment._stage = device.RentStage(Math.Min(MmapDevice.StageSize, length));
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
        var stage = _stage;
        // The appender's path: the next bytes after the staged ones, inside the window.
        if (stage != null && offset == _pendingHi && offset + length - _stageStart <= stage.Length)
        {
            Volatile.Write(ref _pendingHi, offset + length);
            return stage.AsSpan(offset - _stageStart, length);
        }
        return StageSlow(offset, length);
    }

    public void Flush(int offset, int length)
    {
        CheckRange(offset, length);
        if (length == 0) return;
        if (_mode == MmapWriteMode.Buffered)
        {
            WriteStaged(offset, offset + length);
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
        // Reads never use the staging buffer, so a completed segment's can serve the next one at once.
        byte[]? stage;
        lock (_stageLock)
        {
            stage = _stage;
            _stage = null;
            _pendingLo = _pendingHi;
        }
        if (stage != null) _device.ReturnStage(stage);
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

    /// <summary>
    /// Buffered mode, not the append fast path: spills the pending bytes, then stages [offset, offset + length),
    /// in the current window if it fits there, else in a window starting at <paramref name="offset"/>.
    /// </summary>
    private Span<byte> StageSlow(int offset, int length)
    {
        lock (_stageLock)
        {
            var stage = _stage;
            bool continues = stage != null && offset == _pendingHi;
            if (!continues) Spill();
            if (stage == null || offset < _stageStart || offset + length - _stageStart > stage.Length)
            {
                if (continues) Spill();
                if (stage == null || stage.Length < length)
                {
                    if (stage != null) _device.ReturnStage(stage);
                    stage = _device.RentStage(Math.Min(Math.Max(length, MmapDevice.StageSize), Length));
                    _stage = stage;
                }
                _stageStart = offset;
                _pendingLo = offset;
            }
            else if (!continues)
            {
                _pendingLo = offset;
            }
            Invariant.Check(_pendingLo == _pendingHi || _pendingLo <= offset);
            Invariant.Check(offset + length - _stageStart <= stage.Length);
            _written = true;
            Volatile.Write(ref _pendingHi, offset + length);
            return stage.AsSpan(offset - _stageStart, length);
        }
    }

    /// <summary>Under the stage lock: pwrites the pending bytes (without a sync: the next flush makes them durable).</summary>
    private void Spill()
    {
        Debug.Assert(Monitor.IsEntered(_stageLock));
        if (_stage != null && _pendingHi > _pendingLo)
        {
            try
            {
                RandomAccess.Write(_file.SafeFileHandle, _stage.AsSpan(_pendingLo - _stageStart, _pendingHi - _pendingLo), _pendingLo);
            }
            catch (IOException e)
            {
                // The appender cannot be failed here; the next flush reports it, so nothing after it is acknowledged.
                _spillError ??= e;
            }
        }
        _pendingLo = _pendingHi;
    }

    /// <summary>Pwrites the bytes of [from, to) that are still only staged (the rest were spilled).</summary>
    private void WriteStaged(int from, int to)
    {
        lock (_stageLock)
        {
            // Only the slow path sets _written; the fast path always leaves _pendingHi above 0.
            if (!_written && Volatile.Read(ref _pendingHi) == 0) throw new InvalidOperationException($"flush of '{Name}' [{from}, {to}) covers bytes never written");
            if (_spillError != null) throw new IOException($"write of '{Name}' failed before this flush: {_spillError.Message}", _spillError);
            int hi = Volatile.Read(ref _pendingHi);
            int lo = Math.Max(from, _pendingLo);
            int end = Math.Min(to, hi);
            if (_stage == null || end <= lo) return;
            Invariant.Check(lo >= _stageStart);
            RandomAccess.Write(_file.SafeFileHandle, _stage.AsSpan(lo - _stageStart, end - lo), lo);
            // The staged bytes below 'end' are written now, unless the flush began above the pending range.
            if (from <= _pendingLo) _pendingLo = end;
        }
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
