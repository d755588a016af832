using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench.Transport;

/// <summary>
/// Frames/s, MB/s and allocated bytes per frame, derived from BenchmarkDotNet's per-operation mean and
/// allocation, for benchmarks whose one operation sends <c>FramesPerBatch</c> frames of <c>FrameBytes</c>.
/// </summary>
public sealed class ThroughputColumn(string name, Func<double, double, int, long?, double?> value, string legend) : IColumn
{
    public static readonly IColumn FramesPerSecond = new ThroughputColumn("Frames/s",
        (meanNs, _, frames, _) => frames / (meanNs / 1e9), "Frames delivered per second (sender to receiver handler)");
    public static readonly IColumn MegabytesPerSecond = new ThroughputColumn("MB/s",
        (meanNs, bytes, frames, _) => frames * bytes / (meanNs / 1e9) / 1e6, "Payload megabytes (10^6) delivered per second");
    public static readonly IColumn AllocatedPerFrame = new ThroughputColumn("B/frame",
        (_, _, frames, allocated) => allocated is { } a ? (double)a / frames : null, "Bytes allocated per frame, whole process (all threads)");

    public string Id => nameof(ThroughputColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        if (benchmarkCase.Parameters["FrameBytes"] is not int bytes) return "-";
        int frames = TransportThroughputBenchmarks.FramesPerBatchFor(bytes);
        long? allocated = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        var result = value(stats.Mean, bytes, frames, allocated);
        return result is { } r ? r.ToString(r >= 100 ? "N0" : "N2") : "-";
    }
}
