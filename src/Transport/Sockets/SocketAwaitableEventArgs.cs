using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Chainspace.Transport.Sockets;

/// <summary>
/// A SocketAsyncEventArgs that is its own awaiter (Kestrel's shape): one instance per direction per
/// connection, reused for every operation, so a receive or send allocates no Task. Completions from the
/// socket engine are resumed on an <see cref="IoQueue"/>, never inline on the engine's thread.
/// </summary>
internal class SocketAwaitableEventArgs : SocketAsyncEventArgs, ICriticalNotifyCompletion
{
    private static readonly Action CallbackCompleted = () => { };
    private static readonly Action<object?> InvokeAction = static state => ((Action)state!)();
    private readonly PipeScheduler _scheduler;
    private Action? _callback;

    public SocketAwaitableEventArgs(PipeScheduler scheduler) : base(unsafeSuppressExecutionContextFlow: true)
    {
        _scheduler = scheduler;
    }

    public SocketAwaitableEventArgs GetAwaiter() => this;
    public bool IsCompleted => ReferenceEquals(_callback, CallbackCompleted);

    public int GetResult()
    {
        Debug.Assert(ReferenceEquals(_callback, CallbackCompleted));
        _callback = null;
        if (SocketError != SocketError.Success) throw new SocketException((int)SocketError);
        return BytesTransferred;
    }

    public void OnCompleted(Action continuation)
    {
        if (ReferenceEquals(_callback, CallbackCompleted) ||
            ReferenceEquals(Interlocked.CompareExchange(ref _callback, continuation, null), CallbackCompleted))
        {
            // Completed between the IsCompleted check and here: resume without recursion on this stack.
            _scheduler.Schedule(InvokeAction, continuation);
        }
    }

    public void UnsafeOnCompleted(Action continuation) => OnCompleted(continuation);

    /// <summary>Marks a synchronously completed operation, so the await does not suspend.</summary>
    public void CompleteSynchronously() => _callback = CallbackCompleted;

    protected override void OnCompleted(SocketAsyncEventArgs args)
    {
        var continuation = Interlocked.Exchange(ref _callback, CallbackCompleted);
        if (continuation is not null) _scheduler.Schedule(InvokeAction, continuation);
    }

    public SocketAwaitableEventArgs ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        SetBuffer(buffer);
        if (!socket.ReceiveAsync(this)) CompleteSynchronously();
        return this;
    }
}
