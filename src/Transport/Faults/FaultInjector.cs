using System.Diagnostics;
using Chainspace.Transport.Buffers;
using Microsoft.Extensions.ObjectPool;

namespace Chainspace.Transport.Faults;

/// <summary>
/// Network faults over any transport, for tests and local experiments on a machine without netem:
/// wrap each sender with <see cref="Wrap"/> (named peers), then frames are dropped, duplicated, delayed
/// or reordered at the configured rates, and never cross a partition. Decisions come from one seeded
/// PRNG. A drop or partition reports <see cref="SendStatus.Queued"/>, as a lossy network would.
/// Held frames live in pooled blocks; <see cref="DisposeAsync"/> returns them all.
/// </summary>
public sealed class FaultInjector : IAsyncDisposable
{
    private readonly FaultOptions _options;
    private readonly BufferPool _pool;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly HashSet<(string, string)> _partitions = new();
    private readonly PriorityQueue<HeldFrame, long> _delayed = new();
    private readonly ObjectPool<HeldFrame> _held = new DefaultObjectPool<HeldFrame>(new DefaultPooledObjectPolicy<HeldFrame>(), 1024);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _delivery;

    public FaultInjector(FaultOptions options, BufferPool pool)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _pool = pool ?? throw new ArgumentNullException(nameof(pool));
        _random = new Random(options.Seed);
        _delivery = Task.Run(DeliverDelayedAsync);
    }

    public FaultCounters Counters { get; } = new();

    public IFrameSink Wrap(string from, string to, IFrameSink inner) => new FaultySink(this, from, to, inner ?? throw new ArgumentNullException(nameof(inner)));

    /// <summary>Cuts traffic between two named peers, both directions.</summary>
    public void Partition(string a, string b)
    {
        lock (_lock) _partitions.Add(Key(a, b));
    }

    public void Heal(string a, string b)
    {
        lock (_lock) _partitions.Remove(Key(a, b));
    }

    public void HealAll()
    {
        lock (_lock) _partitions.Clear();
    }

    private static (string, string) Key(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    internal SendStatus Send(FaultySink sink, byte type, ReadOnlySpan<byte> payload)
    {
        PooledBlock? releaseBlock = null;
        byte releaseType = 0;
        int releaseLength = 0;
        bool duplicate;
        lock (_lock)
        {
            if (_partitions.Contains(Key(sink.From, sink.To))) return Count(ref Counters.PartitionedCount);
            if (Roll(_options.DropRate)) return Count(ref Counters.DroppedCount);
            duplicate = Roll(_options.DuplicateRate);
            if (Roll(_options.DelayRate))
            {
                Interlocked.Increment(ref Counters.DelayedCount);
                Schedule(Hold(sink, type, payload), RandomDelay());
                return SendStatus.Queued;
            }
            // The frame held for reordering goes right after this one: take its bytes now, under the lock,
            // so the delivery loop finds it already sent (no sink) when its fallback time comes.
            if (sink.Reordered is { } release)
            {
                sink.Reordered = null;
                releaseBlock = release.Block;
                releaseType = release.Type;
                releaseLength = release.Length;
                release.Block = null;
                release.Sink = null;
            }
            else if (Roll(_options.ReorderRate))
            {
                Interlocked.Increment(ref Counters.ReorderedCount);
                var held = Hold(sink, type, payload);
                sink.Reordered = held;
                // If no later frame comes, it still goes out after the longest delay.
                Schedule(held, _options.DelayMax);
                return SendStatus.Queued;
            }
        }
        var status = sink.Inner.TrySend(type, payload);
        if (duplicate && status == SendStatus.Queued)
        {
            Interlocked.Increment(ref Counters.DuplicatedCount);
            sink.Inner.TrySend(type, payload);
        }
        if (releaseBlock is not null)
        {
            sink.Inner.TrySend(releaseType, releaseBlock.Span[..releaseLength]);
            releaseBlock.Dispose();
        }
        return status;
    }

    private static SendStatus Count(ref long counter)
    {
        Interlocked.Increment(ref counter);
        return SendStatus.Queued;
    }

    private bool Roll(double rate) => rate > 0 && _random.NextDouble() < rate;

    private TimeSpan RandomDelay() =>
        _options.DelayMin + TimeSpan.FromTicks((long)(_random.NextDouble() * (_options.DelayMax - _options.DelayMin).Ticks));

    private HeldFrame Hold(FaultySink sink, byte type, ReadOnlySpan<byte> payload)
    {
        var held = _held.Get();
        held.Sink = sink;
        held.Type = type;
        held.Block = _pool.RentBlock(Math.Max(payload.Length, 1));
        held.Length = payload.Length;
        payload.CopyTo(held.Block.Span);
        return held;
    }

    private void Schedule(HeldFrame held, TimeSpan delay)
    {
        held.DueTicks = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        _delayed.Enqueue(held, held.DueTicks);
        _wake.Release();
    }

    private async Task DeliverDelayedAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            TimeSpan wait = Timeout.InfiniteTimeSpan;
            HeldFrame? due = null;
            lock (_lock)
            {
                if (_delayed.TryPeek(out var head, out _))
                {
                    long remaining = head.DueTicks - Stopwatch.GetTimestamp();
                    if (remaining <= 0) due = _delayed.Dequeue();
                    else wait = TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency);
                }
            }
            if (due is not null)
            {
                Deliver(due);
                continue;
            }
            try
            {
                await _wake.WaitAsync(wait, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Deliver(HeldFrame held)
    {
        FaultySink? sink;
        lock (_lock)
        {
            // No sink: a reordered frame that already went out behind its successor.
            sink = held.Sink;
            if (sink is not null && ReferenceEquals(sink.Reordered, held)) sink.Reordered = null;
        }
        if (sink is not null) sink.Inner.TrySend(held.Type, held.Payload);
        _held.Return(held);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _delivery.ConfigureAwait(false);
        lock (_lock)
        {
            while (_delayed.TryDequeue(out var held, out _)) _held.Return(held);
            _partitions.Clear();
        }
        _stop.Dispose();
        _wake.Dispose();
    }
}
