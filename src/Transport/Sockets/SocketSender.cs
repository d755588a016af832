using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// Sends one pipe segment per syscall. A segment (<see cref="TransportOptions.SendSegmentBytes"/>, 64 KiB
/// by default) already holds every frame queued into it, e.g. ~480 frames of 128 B. Scatter/gather over
/// several segments (SocketAsyncEventArgs.BufferList) was measured to allocate GCHandle[] and IOVector[]
/// arrays per send on Linux, so the send loop stays on single buffers and zero bytes per frame.
/// </summary>
internal sealed class SocketSender : SocketAwaitableEventArgs
{
    public SocketSender(PipeScheduler scheduler) : base(scheduler) { }

    /// <summary>The first non-empty segment of <paramref name="buffer"/>: what one send writes.</summary>
    public static ReadOnlyMemory<byte> FirstSegment(in ReadOnlySequence<byte> buffer)
    {
        foreach (var memory in buffer)
            if (!memory.IsEmpty) return memory;
        return default;
    }

    public SocketAwaitableEventArgs SendAsync(Socket socket, ReadOnlyMemory<byte> segment)
    {
        SetBuffer(MemoryMarshal.AsMemory(segment));
        if (!socket.SendAsync(this)) CompleteSynchronously();
        return this;
    }
}
