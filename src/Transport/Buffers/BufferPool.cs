using System.Buffers;
using System.Numerics;
using Chainspace.Core;

namespace Chainspace.Transport.Buffers;

/// <summary>
/// Size-classed pool of pinned blocks (powers of two from <see cref="BlockBytesMin"/> up to the largest
/// frame), in the shape of Garnet's LimitedFixedBufferPool: a cap per class, an always-on
/// <see cref="Outstanding"/> count that every transport test checks is zero after dispose, and a
/// <see cref="Created"/> count that shows whether startup sizing was enough. An empty class allocates a
/// block (counted); what bounds memory is the per-connection send queue, the receive buffer and the
/// connection limit, so the pool itself never grows past those bounds times the retained cap.
/// </summary>
public sealed class BufferPool : MemoryPool<byte>
{
    public const int BlockBytesMin = 4096;
    private const int LevelShiftMin = 12;

    private readonly Level[] _levels;
    private readonly int _retainedMax;
    private readonly int _blockBytesMax;
    private long _outstanding;
    private long _created;
    private int _disposed;

    public BufferPool(int blockBytesMax, int retainedMax, int preallocated, int preallocateUpToBytes)
    {
        if (blockBytesMax < BlockBytesMin) throw new ArgumentOutOfRangeException(nameof(blockBytesMax));
        if (retainedMax < 1) throw new ArgumentOutOfRangeException(nameof(retainedMax));
        _blockBytesMax = (int)BitOperations.RoundUpToPowerOf2((uint)blockBytesMax);
        _retainedMax = retainedMax;
        int levels = BitOperations.Log2((uint)_blockBytesMax) - LevelShiftMin + 1;
        _levels = new Level[levels];
        for (int i = 0; i < levels; i++)
        {
            _levels[i] = new Level(retainedMax);
            if ((BlockBytesMin << i) > preallocateUpToBytes) continue;
            for (int k = 0; k < preallocated; k++) _levels[i].TryPush(new PooledBlock(this, i, BlockBytesMin << i));
        }
    }

    public static BufferPool For(TransportOptions options)
    {
        int largest = Math.Max(Math.Max(options.WireBytesMax, options.ReceiveBufferBytes), options.SendSegmentBytes);
        return new BufferPool(largest, options.PoolBlocksRetainedMax, options.PoolBlocksPreallocated,
            Math.Max(options.ReceiveBufferBytes, options.SendSegmentBytes));
    }

    /// <summary>Blocks rented and not yet returned.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Blocks allocated after startup because a size class was empty.</summary>
    public long Created => Interlocked.Read(ref _created);

    public override int MaxBufferSize => _blockBytesMax;

    /// <summary>A block of at least <paramref name="minBufferSize"/> bytes (the smallest class when negative).</summary>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => RentBlock(minBufferSize);

    public PooledBlock RentBlock(int minBytes)
    {
        if (minBytes > _blockBytesMax) throw new ArgumentOutOfRangeException(nameof(minBytes), $"{minBytes} bytes exceeds the largest pooled block ({_blockBytesMax})");
        int level = LevelOf(minBytes);
        var block = _levels[level].TryPop();
        if (block is null)
        {
            block = new PooledBlock(this, level, BlockBytesMin << level);
            Interlocked.Increment(ref _created);
        }
        block.MarkRented();
        Interlocked.Increment(ref _outstanding);
        return block;
    }

    internal void Return(PooledBlock block)
    {
        Invariant.Check(block.MarkReturned(), "pooled block returned twice");
        Interlocked.Decrement(ref _outstanding);
        // Transport buffers hold only network bytes, never secrets, so they are not cleared on return.
        if (Volatile.Read(ref _disposed) == 0) _levels[block.Level].TryPush(block);
    }

    private static int LevelOf(int minBytes)
    {
        if (minBytes <= BlockBytesMin) return 0;
        return BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)minBytes)) - LevelShiftMin;
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var level in _levels) level.Clear();
    }

    /// <summary>One size class: a bounded stack under a lock (uncontended in practice: one per connection loop).</summary>
    private sealed class Level(int capacity)
    {
        private readonly PooledBlock?[] _items = new PooledBlock?[capacity];
        private int _count;

        public PooledBlock? TryPop()
        {
            lock (_items)
            {
                if (_count == 0) return null;
                var block = _items[--_count];
                _items[_count] = null;
                return block;
            }
        }

        public bool TryPush(PooledBlock block)
        {
            lock (_items)
            {
                if (_count == _items.Length) return false;
                _items[_count++] = block;
                return true;
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                Array.Clear(_items);
                _count = 0;
            }
        }
    }
}
