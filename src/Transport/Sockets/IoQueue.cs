using System.Collections.Concurrent;
using System.IO.Pipelines;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// Runs socket and pipe continuations on the thread pool without allocating per continuation (Kestrel's
/// IOQueue shape): the queue itself is the thread-pool work item, queued once per burst of work, and
/// work entries are structs in a ring-buffered ConcurrentQueue. The built-in ThreadPool scheduler
/// allocates a work-item object per Schedule call, which would show up as bytes per frame.
/// </summary>
internal sealed class IoQueue : PipeScheduler, IThreadPoolWorkItem
{
    private readonly ConcurrentQueue<Work> _work = new();
    private int _doingWork;

    public override void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue(new Work(action, state));
        // Only the first producer after the queue went idle queues the drain.
        if (Interlocked.CompareExchange(ref _doingWork, 1, 0) == 0)
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            while (_work.TryDequeue(out var item)) item.Callback(item.State);
            Volatile.Write(ref _doingWork, 0);
            // Work enqueued between the last dequeue and the reset would otherwise wait for the next producer.
            if (_work.IsEmpty || Interlocked.CompareExchange(ref _doingWork, 1, 0) != 0) return;
        }
    }

    private readonly record struct Work(Action<object?> Callback, object? State);
}
