using System.Buffers;
using Chainspace.Core;

namespace Chainspace.Transport.Buffers;

/// <summary>
/// One pinned array from a <see cref="BufferPool"/>, reused for the life of the pool. It is its own
/// <see cref="IMemoryOwner{T}"/>, so handing it to a Pipe allocates nothing. One owner at a time:
/// whoever holds it calls <see cref="Dispose"/> exactly once to give it back.
/// </summary>
public sealed class PooledBlock : IMemoryOwner<byte>
{
    private readonly BufferPool _pool;
    private int _rented;

    internal PooledBlock(BufferPool pool, int level, int size)
    {
        _pool = pool;
        Level = level;
        // Pinned once at allocation, so sockets never pin per operation and the GC never moves it.
        Array = GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    public byte[] Array { get; }
    internal int Level { get; }
    public Memory<byte> Memory => Array;
    public Span<byte> Span => Array;
    public int Length => Array.Length;

    internal void MarkRented()
    {
        Invariant.Check(Interlocked.Exchange(ref _rented, 1) == 0, "pooled block rented twice");
    }

    internal bool MarkReturned() => Interlocked.Exchange(ref _rented, 0) == 1;

    public void Dispose() => _pool.Return(this);
}
