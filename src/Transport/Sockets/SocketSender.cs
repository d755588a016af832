using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// Sends a run of pipe segments with one syscall: a single segment as a buffer, several as a reused
/// buffer list (scatter/gather). The list is kept within the runtime's on-stack iovec limit, because
/// beyond it each send allocates its handle and iovec arrays.
/// </summary>
internal sealed class SocketSender : SocketAwaitableEventArgs
{
    /// <summary>The runtime pins and describes up to this many segments on the stack (SocketPal.Unix IovStackThreshold).</summary>
    public const int SegmentsPerSendMax = 8;
    private readonly List<ArraySegment<byte>> _bufferList = new(SegmentsPerSendMax);

    public SocketSender(PipeScheduler scheduler) : base(scheduler) { }

    /// <summary>The prefix of <paramref name="buffer"/> one send covers: at most <see cref="SegmentsPerSendMax"/> segments.</summary>
    public static ReadOnlySequence<byte> TakeBatch(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment) return buffer;
        int segments = 0;
        long bytes = 0;
        foreach (var memory in buffer)
        {
            if (memory.IsEmpty) continue;
            if (++segments > SegmentsPerSendMax) break;
            bytes += memory.Length;
        }
        return buffer.Slice(0, bytes);
    }

    public SocketAwaitableEventArgs SendAsync(Socket socket, in ReadOnlySequence<byte> batch)
    {
        if (batch.IsSingleSegment)
        {
            if (BufferList is not null) BufferList = null;
            SetBuffer(MemoryMarshal.AsMemory(batch.First));
        }
        else
        {
            if (!MemoryBuffer.Equals(Memory<byte>.Empty)) SetBuffer(null, 0, 0);
            _bufferList.Clear();
            foreach (var segment in batch)
            {
                if (!MemoryMarshal.TryGetArray(segment, out var array)) throw new InvalidOperationException("send segments must be array-backed");
                _bufferList.Add(array);
            }
            BufferList = _bufferList;
        }
        if (!socket.SendAsync(this)) CompleteSynchronously();
        return this;
    }
}
