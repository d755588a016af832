using Chainspace.Transport.Buffers;
using Microsoft.Extensions.ObjectPool;

namespace Chainspace.Transport.Faults;

/// <summary>A frame the fault layer holds back (delayed or reordered): a copy in a pooled block, reused via ObjectPool.</summary>
internal sealed class HeldFrame : IResettable
{
    public FaultySink? Sink;
    public byte Type;
    public PooledBlock? Block;
    public int Length;
    public long DueTicks;

    public ReadOnlySpan<byte> Payload => Block is null ? default : Block.Span[..Length];

    public bool TryReset()
    {
        Block?.Dispose();
        Block = null;
        Sink = null;
        return true;
    }
}
