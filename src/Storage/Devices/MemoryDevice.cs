namespace Chainspace.Storage.Devices;

/// <summary>
/// Segments as byte arrays. Everything written is "durable" at once (there is no crash to lose it in);
/// wrap it in a <see cref="FaultyDevice"/> for that. <see cref="CapacityBytes"/> models a full disk.
/// </summary>
public sealed class MemoryDevice : IStorageDevice
{
    private readonly SortedDictionary<long, byte[]> _segments = new();
    private readonly SortedDictionary<long, byte[]> _retired = new();

    public MemoryDevice(string name = "memory", long capacityBytes = long.MaxValue)
    {
        Location = "memory:" + name;
        CapacityBytes = capacityBytes;
    }

    public string Location { get; }

    /// <summary>Total bytes the segments (retired ones included) may occupy; a creation beyond it throws <see cref="StorageFullException"/>.</summary>
    public long CapacityBytes { get; set; }

    public long UsedBytes
    {
        get
        {
            long used = 0;
            foreach (var bytes in _segments.Values) used += bytes.Length;
            foreach (var bytes in _retired.Values) used += bytes.Length;
            return used;
        }
    }

    /// <summary>Called after each step of retiring or reusing a segment; <see cref="FaultyDevice"/> throws from it to crash there.</summary>
    internal Action<RecycleStep>? RecycleStepHook { get; set; }

    public string SegmentName(long id) => $"{Location}/segment-{id:D10}";

    public long[] ListSegments()
    {
        lock (_segments) return _segments.Keys.ToArray();
    }

    public IStorageSegment CreateSegment(long id, int length, ReadOnlySpan<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        lock (_segments)
        {
            if (_segments.ContainsKey(id)) throw new IOException($"segment '{SegmentName(id)}' already exists");
            long used = UsedBytes;
            if (used + length > CapacityBytes)
            {
                throw new StorageFullException(
                    $"cannot create log segment '{SegmentName(id)}': reserving {length} bytes failed: the device holds " +
                    $"{used} of {CapacityBytes} bytes (no space left). The existing segments are intact.");
            }
            var bytes = GC.AllocateArray<byte>(length, pinned: true);
            header.CopyTo(bytes);
            _segments.Add(id, bytes);
            return new MemorySegment(id, SegmentName(id), bytes);
        }
    }

    public IStorageSegment OpenSegment(long id, int length)
    {
        lock (_segments)
        {
            if (!_segments.TryGetValue(id, out var bytes)) throw new FileNotFoundException($"segment '{SegmentName(id)}' does not exist");
            if (bytes.Length != length) throw new IOException($"segment '{SegmentName(id)}' is {bytes.Length} bytes, expected {length}");
            return new MemorySegment(id, SegmentName(id), bytes);
        }
    }

    public void DeleteSegment(long id)
    {
        lock (_segments) _segments.Remove(id);
    }

    public long[] ListRetired()
    {
        lock (_segments) return _retired.Keys.ToArray();
    }

    public void RetireSegment(long id)
    {
        lock (_segments)
        {
            if (!_segments.Remove(id, out var bytes)) throw new FileNotFoundException($"segment '{SegmentName(id)}' does not exist");
            _retired.Add(id, bytes);
        }
        RecycleStepHook?.Invoke(RecycleStep.Retired);
    }

    /// <summary>
    /// Steps as <see cref="MmapDevice"/> takes them. A crash (the hook throwing) after <see cref="RecycleStep.Taken"/> or
    /// <see cref="RecycleStep.HeaderWritten"/> loses the bytes, as a file device discards the temporary file when it opens.
    /// </summary>
    public IStorageSegment ReuseSegment(long retiredId, long id, int length, ReadOnlySpan<byte> header)
    {
        byte[]? bytes;
        lock (_segments)
        {
            if (_segments.ContainsKey(id)) throw new IOException($"segment '{SegmentName(id)}' already exists");
            if (!_retired.Remove(retiredId, out bytes)) throw new FileNotFoundException($"retired segment {retiredId} of '{Location}' does not exist");
            if (bytes.Length != length) throw new IOException($"retired segment {retiredId} of '{Location}' is {bytes.Length} bytes, not {length}");
        }
        RecycleStepHook?.Invoke(RecycleStep.Taken);
        header.CopyTo(bytes);
        RecycleStepHook?.Invoke(RecycleStep.HeaderWritten);
        lock (_segments) _segments.Add(id, bytes);
        RecycleStepHook?.Invoke(RecycleStep.Renamed);
        return new MemorySegment(id, SegmentName(id), bytes);
    }

    public void DeleteRetired(long retiredId)
    {
        lock (_segments) _retired.Remove(retiredId);
    }

    /// <summary>The bytes of a segment as they stand, for tests that damage them (truncate, flip bits).</summary>
    public Span<byte> Raw(long id)
    {
        lock (_segments) return _segments[id];
    }

    public void Dispose()
    {
    }

    private sealed class MemorySegment(long id, string name, byte[] bytes) : IStorageSegment
    {
        public long Id { get; } = id;
        public string Name { get; } = name;
        public int Length => bytes.Length;

        public ReadOnlySpan<byte> Read(int offset, int length) => bytes.AsSpan(offset, length);

        public Span<byte> GetWriteSpan(int offset, int length) => bytes.AsSpan(offset, length);

        public void Flush(int offset, int length)
        {
            if ((uint)offset > (uint)bytes.Length || (uint)length > (uint)(bytes.Length - offset)) throw new ArgumentOutOfRangeException(nameof(offset));
        }

        public void Sync()
        {
        }

        public void EndWrites()
        {
        }

        public void Dispose()
        {
        }
    }
}
