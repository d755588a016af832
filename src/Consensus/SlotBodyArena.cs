using Chainspace.Core.Memory;

namespace Chainspace.Consensus;

/// <summary>
/// Where a replica's slots keep their batch bodies: power-of-two pieces carved from large huge-page-advised chunks
/// (<see cref="LargeBuffers"/>). Every slot of the watermark window holds its own body for as long as it lives, so a
/// run's first pass through the window first-touches one buffer per batch; allocated one by one (pinned arrays of
/// ~32 KiB) they cost a GC allocation and eight 4 KiB page faults each, ~5 % of node CPU in a default load run. A
/// piece is never returned: a slot keeps it and only asks for a larger one when a body outgrows it (a few times at
/// most), so what is left behind stays small next to what is used. Not thread-safe, like the replica that owns it.
/// </summary>
internal sealed class SlotBodyArena
{
    private const int ChunkBytes = 8 << 20;
    private const int PieceBytesMin = 4096;
    private const int PieceBytesMaxInChunk = ChunkBytes / 8;   // larger bodies get an array of their own

    private byte[]? _chunk;
    private int _used;

    /// <summary>A buffer of at least <paramref name="length"/> bytes (uninitialized: every byte read is written first).</summary>
    public Memory<byte> Take(int length)
    {
        int size = (int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, PieceBytesMin)), (uint)Array.MaxLength);
        if (size > PieceBytesMaxInChunk) return LargeBuffers.Allocate(size);
        if (_chunk is null || _used + size > _chunk.Length)
        {
            _chunk = LargeBuffers.Allocate(ChunkBytes);
            _used = 0;
        }
        var piece = _chunk.AsMemory(_used, size);
        _used += size;
        return piece;
    }
}
