using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench.Transport;

/// <summary>
/// Frames/s, MB/s and allocated bytes per frame, derived from BenchmarkDotNet's per-operation mean and
/// allocation, for benchmarks whose one operation sends <c>FramesPerBatch</c> frames of <c>FrameBytes</c>.
/// </summary>
public sealed class ThroughputColumn(string name, Func<double, double, int, long?, double?> value, string legend) : DerivedColumn(name, legend)
{
    public static readonly IColumn FramesPerSecond = new ThroughputColumn("Frames/s",
        (meanNs, _, frames, _) => frames / (meanNs / 1e9), "Frames delivered per second (sender to receiver handler)");
    public static readonly IColumn MegabytesPerSecond = new ThroughputColumn("MB/s",
        (meanNs, bytes, frames, _) => frames * bytes / (meanNs / 1e9) / 1e6, "Payload megabytes (10^6) delivered per second");
    public static readonly IColumn AllocatedPerFrame = new ThroughputColumn("B/frame",
        (_, _, frames, allocated) => allocated is { } a ? (double)a / frames : null, "Bytes allocated per frame, whole process (all threads)");

    protected override double? Compute(BenchmarkReport report, BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["FrameBytes"] is not int bytes) return null;
        int frames = TransportThroughputBenchmarks.FramesPerBatchFor(bytes);
        return value(report.ResultStatistics!.Mean, bytes, frames, report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase));
    }
}
