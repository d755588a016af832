using System.Diagnostics.Metrics;

namespace Chainspace.Node;

/// <summary>
/// The node's counters as System.Diagnostics.Metrics instruments (meter "Chainspace.Node"), readable with
/// <c>dotnet-counters monitor -n Chainspace.Node --counters Chainspace.Node</c>. Observable instruments read
/// the event loop's plain counters when a listener asks, so the hot path pays nothing for them.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Chainspace.Node";
    private readonly Meter _meter;

    internal NodeMetrics(ReplicaNode node)
    {
        _meter = new Meter(MeterName);
        var tags = new KeyValuePair<string, object?>("node", node.Id.ToString());
        _meter.CreateObservableCounter("chainspace.tx.committed", () => new Measurement<long>(node.Stats().Committed, tags), "{tx}", "transactions decided commit in this shard");
        _meter.CreateObservableCounter("chainspace.tx.aborted", () => new Measurement<long>(node.Stats().Aborted, tags), "{tx}", "transactions decided abort in this shard");
        _meter.CreateObservableCounter("chainspace.batches", () => new Measurement<long>(node.Stats().Batches, tags), "{batch}", "PBFT batches executed");
        _meter.CreateObservableCounter("chainspace.requests", () => new Measurement<long>(node.Stats().Requests, tags), "{request}", "requests executed (divide by batches for the mean batch size)");
        _meter.CreateObservableGauge("chainspace.queue.depth", () => new Measurement<long>(node.Stats().QueueDepth, tags), "{frame}", "frames drained by the last loop round");
        _meter.CreateObservableCounter("chainspace.view.changes", () => new Measurement<long>(node.Stats().ViewChanges, tags), "{view}", "views installed");
        _meter.CreateObservableCounter("chainspace.log.flushes", () => new Measurement<long>(node.Stats().LogFlushes, tags), "{flush}", "group-commit flushes of the log");
        _meter.CreateObservableCounter("chainspace.frames.rejected", () => new Measurement<long>(node.Stats().RejectedFrames, tags), "{frame}", "frames refused (malformed, wrong sender)");
        _meter.CreateObservableCounter("chainspace.sends.dropped", () => new Measurement<long>(node.SendDrops, tags), "{frame}", "frames not queued (peer down or queue full)");
    }

    public void Dispose() => _meter.Dispose();
}
