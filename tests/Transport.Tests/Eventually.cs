namespace Chainspace.Transport.Tests;

/// <summary>Waits on a condition with a deadline (no fixed sleeps): polls briefly and fails with a description.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>Retries a send that reports backpressure until it is queued or the deadline passes.</summary>
    public static async Task Send(IFrameSink sink, byte type, byte[] payload, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var status = sink.TrySend(type, payload);
            if (status == SendStatus.Queued) return;
            if (status == SendStatus.TooLarge) throw new InvalidOperationException("frame too large");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"send kept returning {status}");
            await Task.Delay(1);
        }
    }
}
