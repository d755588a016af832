using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Chainspace.Node;

/// <summary>
/// A poor man's allocation profiler for a node under load, for when no dotnet-trace is at hand: listens to
/// the runtime's GCAllocationTick events (one per ~100 KB allocated, naming the type being allocated) and
/// prints the types that account for most of them. Enabled by CHAINSPACE_ALLOC_SAMPLE=1; costs nothing
/// otherwise.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1 /* GC */);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int typeIndex = e.PayloadNames!.IndexOf("TypeName");
        int amountIndex = e.PayloadNames.IndexOf("AllocationAmount");
        if (typeIndex < 0 || amountIndex < 0) return;
        string type = e.Payload[typeIndex] as string ?? "?";
        long amount = Convert.ToInt64(e.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    public string Report(int top = 15)
    {
        long total = _bytes.Values.Sum();
        var lines = _bytes.OrderByDescending(kv => kv.Value).Take(top)
            .Select(kv => $"  {kv.Value / 1024,10:N0} KiB  {100.0 * kv.Value / Math.Max(1, total),5:F1}%  {kv.Key}");
        return $"allocation samples ({total / 1024:N0} KiB sampled):\n" + string.Join("\n", lines);
    }
}
