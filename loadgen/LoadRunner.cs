using System.Diagnostics;
using System.Globalization;
using Chainspace.Client;
using Chainspace.Core.Cluster;
using Chainspace.Node.Protocol;
using HdrHistogram;

namespace Chainspace.LoadGen;

public sealed record LoadOptions
{
    /// <summary>Open loop: transactions per second, sent on schedule whatever the latency. 0 = closed loop.</summary>
    public int Rate { get; init; }
    /// <summary>Closed loop: transactions in flight.</summary>
    public int Concurrency { get; init; } = 256;
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);
    public bool Progress { get; init; } = true;
}

public sealed record LoadSummary(
    double Seconds, long Committed, long Aborted, long Rejected, long TimedOut, long Sent,
    double Throughput, double P50Ms, double P90Ms, double P99Ms, double MaxMs,
    double AllocatedBytesPerTx, double CpuMsPerTx, double MeanBatch, long ViewChanges, long Resent, bool Exhausted,
    string? StatsUnavailable = null)
{
    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        string nodes = StatsUnavailable is null
            ? string.Create(c, $"""
                node cost    {AllocatedBytesPerTx:N0} B allocated and {CpuMsPerTx * 1000:F0} µs CPU per committed tx (all replicas together)
                batches      {MeanBatch:F1} requests per PBFT batch on average; {ViewChanges} view changes
                """)
            : $"node cost    unavailable: {StatsUnavailable}";
        return string.Create(c, $"""
            committed    {Committed:N0} tx in {Seconds:F1} s = {Throughput:N0} tx/s
            aborted      {Aborted:N0}   rejected {Rejected:N0}   timed out {TimedOut:N0}   resent {Resent:N0}
            latency      p50 {P50Ms:F2} ms   p90 {P90Ms:F2} ms   p99 {P99Ms:F2} ms   max {MaxMs:F2} ms
            """) + "\n" + nodes + (Exhausted ? "\nnote         the genesis pool ran out before the end: raise --objects" : "");
    }
}

/// <summary>
/// Drives a prepared workload through a <see cref="ChainspaceClient"/>: closed loop (a fixed number in
/// flight) or open loop (a schedule; latency counts from the intended send time, so a slow cluster cannot
/// hide its queueing, HdrHistogram's coordinated-omission rule). Only decisions inside the measurement
/// window (after the warm-up) count; the nodes' allocation and CPU counters are read at its edges.
/// </summary>
public sealed class LoadRunner
{
    private readonly ChainspaceClient _client;
    private readonly IReadOnlyList<PreparedTransaction> _work;
    private readonly LoadOptions _options;
    private readonly LongConcurrentHistogram _latency = new(1, 3_600_000_000L, 3);   // µs
    private readonly Stopwatch _clock = new();
    private long _measureFrom = long.MaxValue, _measureTo = long.MaxValue;   // Stopwatch ticks
    private long _committed, _aborted, _rejected, _timedOut, _sent, _windowCommitted, _next;
    private CancellationToken _token;

    public LoadRunner(ChainspaceClient client, IReadOnlyList<PreparedTransaction> work, LoadOptions options)
    {
        _client = client;
        _work = work;
        _options = options;
    }

    public async Task<LoadSummary> RunAsync(CancellationToken cancellationToken)
    {
        var nodes = _client.File.Cluster.AllReplicas.Select(r => r.Id).ToArray();
        _clock.Start();
        _measureFrom = Ticks(_options.Warmup);
        _measureTo = Ticks(_options.Warmup + _options.Duration);
        _token = cancellationToken;
        var sender = _options.Rate > 0 ? Task.Run(() => OpenLoop(cancellationToken), cancellationToken) : Task.Run(() => ClosedLoop(cancellationToken), cancellationToken);

        NodeStats[]? before = null;
        bool beforeRead = false;
        string? statsUnavailable = null;
        long lastCommitted = 0;
        var lastReport = TimeSpan.Zero;
        while (_clock.ElapsedTicks < _measureTo && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            if (!beforeRead && _clock.ElapsedTicks >= _measureFrom)
            {
                beforeRead = true;
                (before, statsUnavailable) = await ReadStats(nodes).ConfigureAwait(false);
            }
            if (_options.Progress && _clock.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
            {
                long c = Interlocked.Read(ref _committed);
                string phase = _clock.ElapsedTicks < _measureFrom ? "warm-up" : "measure";
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                    $"\r{phase} {_clock.Elapsed.TotalSeconds,5:F1} s  committed {c,9:N0}  {(c - lastCommitted) / (_clock.Elapsed - lastReport).TotalSeconds,8:N0} tx/s  aborted {Interlocked.Read(ref _aborted):N0}  in flight {_client.InFlight:N0}   "));
                lastCommitted = c;
                lastReport = _clock.Elapsed;
            }
            if (Interlocked.Read(ref _next) >= _work.Count && _client.InFlight == 0) break;
        }
        double seconds = Math.Min(_clock.ElapsedTicks, _measureTo) - _measureFrom;
        seconds = Math.Max(seconds, 1) / Stopwatch.Frequency;
        var (after, afterUnavailable) = await ReadStats(nodes).ConfigureAwait(false);
        statsUnavailable ??= afterUnavailable;
        _measureTo = Math.Min(_measureTo, _clock.ElapsedTicks);
        if (_options.Progress) Console.Error.WriteLine();
        long windowCommitted = Interlocked.Read(ref _windowCommitted);
        double allocated = 0, cpu = 0, batches = 0, requests = 0;
        long viewChanges = 0;
        if (before is not null && after is not null && windowCommitted > 0)
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                allocated += after[i].AllocatedBytes - before[i].AllocatedBytes;
                cpu += after[i].CpuMilliseconds - before[i].CpuMilliseconds;
                batches += after[i].Batches - before[i].Batches;
                requests += after[i].Requests - before[i].Requests;
                viewChanges = Math.Max(viewChanges, after[i].ViewChanges - before[i].ViewChanges);
            }
            allocated /= windowCommitted;
            cpu /= windowCommitted;
        }
        var h = _latency;
        return new LoadSummary(seconds, windowCommitted, Interlocked.Read(ref _aborted), Interlocked.Read(ref _rejected), Interlocked.Read(ref _timedOut),
            Interlocked.Read(ref _sent), windowCommitted / seconds,
            h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(50) / 1000.0, h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(90) / 1000.0,
            h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(99) / 1000.0, h.TotalCount == 0 ? 0 : h.GetMaxValue() / 1000.0,
            allocated, cpu, batches == 0 ? 0 : requests / batches, viewChanges, _client.Resent, Interlocked.Read(ref _next) >= _work.Count,
            statsUnavailable);
    }

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Every node's counters, or why not: a node that does not answer within 5 s (down, or stalled) leaves
    /// the run's own figures standing and the node cost unreported, rather than ending the run.</summary>
    private async Task<(NodeStats[]? Stats, string? Unavailable)> ReadStats(NodeId[] nodes)
    {
        var tasks = nodes.Select(n => _client.QueryStatsAsync(n, TimeSpan.FromSeconds(5))).ToArray();
        try
        {
            return (await Task.WhenAll(tasks).ConfigureAwait(false), null);
        }
        catch (TimeoutException)
        {
            int i = Array.FindIndex(tasks, t => t.IsFaulted);
            return (null, $"node {nodes[i]} did not answer its stats query within 5 s");
        }
    }

    /// <summary>Fills the window; from then on each decision sends the next transaction (<see cref="OnDone"/>),
    /// on the thread that received it. No sender thread waits for free slots: on a 2-core machine shared with
    /// the cluster, its wake-ups and the semaphore's spinning cost the nodes CPU.</summary>
    private void ClosedLoop(CancellationToken token)
    {
        for (int k = 0; k < _options.Concurrency && !token.IsCancellationRequested; k++)
        {
            if (!SendNext()) break;
        }
    }

    private bool SendNext()
    {
        if (_token.IsCancellationRequested || _clock.ElapsedTicks >= _measureTo) return false;
        long i = Interlocked.Increment(ref _next) - 1;
        if (i >= _work.Count) return false;
        SendOne((int)i, _clock.ElapsedTicks);
        return true;
    }

    private void OpenLoop(CancellationToken token)
    {
        double ticksPerTx = (double)Stopwatch.Frequency / _options.Rate;
        long sent = 0;
        while (!token.IsCancellationRequested && _clock.ElapsedTicks < _measureTo)
        {
            long now = _clock.ElapsedTicks;
            while (sent * ticksPerTx <= now)
            {
                long i = Interlocked.Increment(ref _next) - 1;
                if (i >= _work.Count) return;
                SendOne((int)i, (long)(sent * ticksPerTx));   // latency from the intended send time
                sent++;
            }
            Thread.Sleep(1);
        }
    }

    private void SendOne(int index, long intended)
    {
        Interlocked.Increment(ref _sent);
        _client.Submit(_work[index], OnDone, intended);
    }

    private void OnDone(PreparedTransaction tx, Outcome outcome, object? state)
    {
        long intended = (long)state!;
        long now = _clock.ElapsedTicks;
        switch (outcome)
        {
            case Outcome.Committed:
                Interlocked.Increment(ref _committed);
                if (now >= _measureFrom && now < _measureTo)
                {
                    Interlocked.Increment(ref _windowCommitted);
                    _latency.RecordValue(Math.Max(1, (now - intended) * 1_000_000 / Stopwatch.Frequency));
                }
                break;
            case Outcome.Aborted: Interlocked.Increment(ref _aborted); break;
            case Outcome.Rejected: Interlocked.Increment(ref _rejected); break;
            default: Interlocked.Increment(ref _timedOut); break;
        }
        if (_options.Rate <= 0) SendNext();
    }
}
