namespace Chainspace.Storage.Devices;

/// <summary>
/// A seeded fault-injecting decorator (STYLE.md §5). Writes go to a volatile copy of each segment (the
/// page cache); only <see cref="IStorageSegment.Flush"/> copies a range to the inner device (the media).
/// It can crash (<see cref="Crash(CrashMode)"/>: lose, tear or reorder what was not flushed), flip bits in
/// the media, fail a flush or a segment creation with an I/O error, run out of space, and stop as if crashed at
/// a step of retiring or reusing a segment (<see cref="CrashAtNextRecycleStep"/>). Everything random comes from
/// the seed, so a failing run replays.
/// </summary>
public sealed class FaultyDevice : IStorageDevice
{
    private readonly IStorageDevice _inner;
    private readonly Random _random;
    private readonly Dictionary<long, FaultySegment> _live = new();
    private readonly Dictionary<long, int> _lengths = new();
    private readonly Dictionary<long, int> _retiredLengths = new();
    private readonly object _sync = new();
    private FlushFault _nextFlushFault;
    private bool _failNextCreate;
    private RecycleStep? _crashAt;

    private enum FlushFault : byte { None, Fail, FailTorn }

    public FaultyDevice(IStorageDevice inner, int seed, int pageSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        _inner = inner;
        Seed = seed;
        PageSize = pageSize;
        _random = new Random(seed);
    }

    public int Seed { get; }
    public int PageSize { get; }
    public string Location => "faulty:" + _inner.Location;
    public IStorageDevice Inner => _inner;

    /// <summary>Bytes the segments may occupy (those this device created or opened); beyond it creation fails as a full disk.</summary>
    public long CapacityBytes { get; set; } = long.MaxValue;

    public int FlushCount { get; private set; }
    public int CrashCount { get; private set; }

    public string SegmentName(long id) => _inner.SegmentName(id);
    public long[] ListSegments() => _inner.ListSegments();

    /// <summary>The next flush throws an <see cref="IOException"/>; when <paramref name="torn"/>, a random prefix of its range reaches the media first.</summary>
    public void FailNextFlush(bool torn = false)
    {
        lock (_sync) _nextFlushFault = torn ? FlushFault.FailTorn : FlushFault.Fail;
    }

    /// <summary>The next segment creation throws an <see cref="IOException"/> (not a full disk: an I/O error).</summary>
    public void FailNextCreate()
    {
        lock (_sync) _failNextCreate = true;
    }

    /// <summary>
    /// The next retirement or reuse of a segment stops after <paramref name="step"/> by throwing
    /// <see cref="SimulatedCrashException"/>, the inner device left as a crash there would leave it. The caller then
    /// calls <see cref="Crash(CrashMode)"/> and disposes the log, as after any crash. Needs a <see cref="MemoryDevice"/>
    /// or <see cref="MmapDevice"/> inside.
    /// </summary>
    public void CrashAtNextRecycleStep(RecycleStep step)
    {
        lock (_sync)
        {
            _crashAt = step;
            Action<RecycleStep> hook = OnRecycleStep;
            switch (_inner)
            {
                case MemoryDevice memory:
                    memory.RecycleStepHook = hook;
                    break;
                case MmapDevice mmap:
                    mmap.RecycleStepHook = hook;
                    break;
                default:
                    throw new NotSupportedException($"cannot stop a {_inner.GetType().Name} at a recycling step");
            }
        }
    }

    private void OnRecycleStep(RecycleStep step)
    {
        if (_crashAt != step) return;
        _crashAt = null;
        throw new SimulatedCrashException($"simulated crash after recycling step {step} on '{Location}' (seed {Seed})");
    }

    public IStorageSegment CreateSegment(long id, int length, ReadOnlySpan<byte> header)
    {
        lock (_sync)
        {
            ThrowIfCreateFails(id);
            long used = UsedBytes();
            if (used + length > CapacityBytes)
            {
                throw new StorageFullException(
                    $"cannot create log segment '{SegmentName(id)}': reserving {length} bytes failed: the simulated device " +
                    $"holds {used} of {CapacityBytes} bytes (no space left). The existing segments are intact.");
            }
            var inner = _inner.CreateSegment(id, length, header);
            _lengths[id] = length;
            return Track(inner);
        }
    }

    public IStorageSegment OpenSegment(long id, int length)
    {
        lock (_sync)
        {
            if (_live.ContainsKey(id)) throw new InvalidOperationException($"segment '{SegmentName(id)}' is already open");
            var inner = _inner.OpenSegment(id, length);
            _lengths[id] = length;
            return Track(inner);
        }
    }

    public void DeleteSegment(long id)
    {
        lock (_sync)
        {
            _lengths.Remove(id);
            _inner.DeleteSegment(id);
        }
    }

    public long[] ListRetired() => _inner.ListRetired();

    public void RetireSegment(long id)
    {
        lock (_sync)
        {
            _inner.RetireSegment(id);
            if (_lengths.Remove(id, out int length)) _retiredLengths[id] = length;
        }
    }

    /// <summary>Reuses a retired segment of the inner device (needing no new space); an injected creation error applies to it too.</summary>
    public IStorageSegment ReuseSegment(long retiredId, long id, int length, ReadOnlySpan<byte> header)
    {
        lock (_sync)
        {
            ThrowIfCreateFails(id);
            _retiredLengths.Remove(retiredId);
            var inner = _inner.ReuseSegment(retiredId, id, length, header);
            _lengths[id] = length;
            return Track(inner);
        }
    }

    public void DeleteRetired(long retiredId)
    {
        lock (_sync)
        {
            _retiredLengths.Remove(retiredId);
            _inner.DeleteRetired(retiredId);
        }
    }

    private void ThrowIfCreateFails(long id)
    {
        if (!_failNextCreate) return;
        _failNextCreate = false;
        throw new IOException($"injected I/O error creating segment '{SegmentName(id)}' (seed {Seed})");
    }

    private long UsedBytes()
    {
        long used = 0;
        foreach (int n in _lengths.Values) used += n;
        foreach (int n in _retiredLengths.Values) used += n;
        return used;
    }

    /// <summary>Flips one bit of the media (and of the volatile copy if the segment is open).</summary>
    public void FlipBit(long segmentId, int offset, int bit)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)bit, 7u, nameof(bit));
        lock (_sync)
        {
            byte mask = (byte)(1 << bit);
            if (_live.TryGetValue(segmentId, out var live))
            {
                live.Volatile[offset] ^= mask;
                FlipOnMedia(live.Inner, offset, mask);
                return;
            }
            int length = _lengths.TryGetValue(segmentId, out int n) ? n : throw new InvalidOperationException("segment length unknown: open it through this device first");
            using var segment = _inner.OpenSegment(segmentId, length);
            FlipOnMedia(segment, offset, mask);
        }
    }

    private static void FlipOnMedia(IStorageSegment media, int offset, byte mask)
    {
        byte value = media.Read(offset, 1)[0];
        media.GetWriteSpan(offset, 1)[0] = (byte)(value ^ mask);
        media.Flush(offset, 1);
    }

    /// <summary>Flips a random bit in [offset, offset + length) of the media; returns the offset and bit it chose.</summary>
    public (int Offset, int Bit) FlipRandomBit(long segmentId, int offset, int length)
    {
        int at, bit;
        lock (_sync)
        {
            at = offset + _random.Next(length);
            bit = _random.Next(8);
        }
        FlipBit(segmentId, at, bit);
        return (at, bit);
    }

    /// <summary>A crash with a mode drawn from the seed.</summary>
    public CrashMode Crash()
    {
        CrashMode mode;
        lock (_sync) mode = (CrashMode)_random.Next(3);
        Crash(mode);
        return mode;
    }

    /// <summary>
    /// Simulates power loss: unflushed bytes are lost, torn or partly written back as <paramref name="mode"/>
    /// says, and every open segment is cut off from the media (its writes and flushes go nowhere, as a dead
    /// process's would). Open the log again over this device to recover.
    /// </summary>
    public void Crash(CrashMode mode)
    {
        lock (_sync)
        {
            CrashCount++;
            _crashAt = null;   // the process that armed it is gone
            var segments = _live.Values.OrderBy(s => s.Id).ToArray();
            switch (mode)
            {
                case CrashMode.LoseUnflushed:
                    break;
                case CrashMode.TearLastWrite:
                    TearPrefix(segments);
                    break;
                case CrashMode.ReorderPages:
                    WriteBackRandomPages(segments);
                    break;
            }
            foreach (var segment in segments) segment.Detach();
            _live.Clear();
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            foreach (var segment in _live.Values) segment.Detach();
            _live.Clear();
        }
        _inner.Dispose();
    }

    private FaultySegment Track(IStorageSegment inner)
    {
        var segment = new FaultySegment(this, inner);
        _live.Add(inner.Id, segment);
        return segment;
    }

    private void Forget(FaultySegment segment)
    {
        lock (_sync)
        {
            if (_live.TryGetValue(segment.Id, out var live) && ReferenceEquals(live, segment)) _live.Remove(segment.Id);
        }
    }

    private void FlushRange(FaultySegment segment, int offset, int length)
    {
        lock (_sync)
        {
            if (segment.Detached) return;   // the process that owned it has crashed
            FlushCount++;
            var fault = _nextFlushFault;
            _nextFlushFault = FlushFault.None;
            if (fault == FlushFault.None)
            {
                segment.WriteBack(offset, length);
                return;
            }
            if (fault == FlushFault.FailTorn) segment.WriteBack(offset, _random.Next(length + 1));
            throw new IOException($"injected I/O error flushing '{segment.Name}' bytes [{offset}, {offset + length}) (seed {Seed})");
        }
    }

    private void TearPrefix(FaultySegment[] segments)
    {
        long dirty = 0;
        foreach (var segment in segments) dirty += segment.CountDirtyBytes();
        long keep = (long)(_random.NextDouble() * (dirty + 1));
        foreach (var segment in segments) keep -= segment.WriteBackDirtyBytes(keep);
    }

    private void WriteBackRandomPages(FaultySegment[] segments)
    {
        foreach (var segment in segments)
        {
            for (int page = 0; page < segment.Length; page += PageSize)
            {
                int n = Math.Min(PageSize, segment.Length - page);
                if (segment.IsDirty(page, n) && _random.Next(2) == 0) segment.WriteBack(page, n);
            }
        }
    }

    /// <summary>A segment seen through the fault layer: a volatile copy in front of the inner segment.</summary>
    private sealed class FaultySegment : IStorageSegment
    {
        private readonly FaultyDevice _device;

        public FaultySegment(FaultyDevice device, IStorageSegment inner)
        {
            _device = device;
            Inner = inner;
            Volatile = GC.AllocateArray<byte>(inner.Length, pinned: true);
            inner.Read(0, inner.Length).CopyTo(Volatile);
        }

        public IStorageSegment Inner { get; }
        public byte[] Volatile { get; }
        public bool Detached { get; private set; }
        public long Id => Inner.Id;
        public string Name => Inner.Name;
        public int Length => Volatile.Length;

        public ReadOnlySpan<byte> Read(int offset, int length) => Volatile.AsSpan(offset, length);

        public Span<byte> GetWriteSpan(int offset, int length) => Volatile.AsSpan(offset, length);

        public void Flush(int offset, int length)
        {
            if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset)) throw new ArgumentOutOfRangeException(nameof(offset));
            _device.FlushRange(this, offset, length);
        }

        public void Sync() => _device.FlushRange(this, 0, Length);

        public void EndWrites()
        {
        }

        /// <summary>Copies [offset, offset + length) of the volatile copy to the media and flushes it there.</summary>
        public void WriteBack(int offset, int length)
        {
            if (length == 0) return;
            Volatile.AsSpan(offset, length).CopyTo(Inner.GetWriteSpan(offset, length));
            Inner.Flush(offset, length);
        }

        public bool IsDirty(int offset, int length) => !Volatile.AsSpan(offset, length).SequenceEqual(Inner.Read(offset, length));

        public long CountDirtyBytes()
        {
            var media = Inner.Read(0, Length);
            long count = 0;
            for (int i = 0; i < Length; i++) if (Volatile[i] != media[i]) count++;
            return count;
        }

        /// <summary>Writes back the first <paramref name="budget"/> differing bytes in address order; returns how many.</summary>
        public long WriteBackDirtyBytes(long budget)
        {
            var image = Inner.Read(0, Length).ToArray();
            long written = 0;
            int last = -1;
            for (int i = 0; i < Length && written < budget; i++)
            {
                if (Volatile[i] == image[i]) continue;
                image[i] = Volatile[i];
                written++;
                last = i;
            }
            if (last < 0) return 0;
            image.AsSpan(0, last + 1).CopyTo(Inner.GetWriteSpan(0, last + 1));
            Inner.Flush(0, last + 1);
            return written;
        }

        public void Detach()
        {
            if (Detached) return;
            Detached = true;
            Inner.Dispose();
        }

        public void Dispose()
        {
            if (Detached) return;
            Detached = true;
            Inner.Dispose();
            _device.Forget(this);
        }
    }
}
