using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench.Storage;

/// <summary>
/// Records/s and payload MB/s from BenchmarkDotNet's mean, for benchmarks whose operation is one record
/// (OperationsPerInvoke) and whose <c>RecordSize</c> parameter is the payload size.
/// </summary>
public sealed class LogThroughputColumn(string name, bool megabytes)
    : DerivedColumn(name, megabytes ? "Payload megabytes (10^6) appended per second" : "Records appended per second")
{
    public static readonly IColumn RecordsPerSecond = new LogThroughputColumn("Records/s", megabytes: false);
    public static readonly IColumn MegabytesPerSecond = new LogThroughputColumn("MB/s", megabytes: true);

    protected override double? Compute(BenchmarkReport report, BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters["RecordSize"] is not int bytes) return null;
        double perSecond = 1e9 / report.ResultStatistics!.Mean;
        return megabytes ? perSecond * bytes / 1e6 : perSecond;
    }
}

/// <summary>Adds the throughput columns to a benchmark class.</summary>
public sealed class LogThroughputConfig : ManualConfig
{
    public LogThroughputConfig()
    {
        AddColumn(LogThroughputColumn.RecordsPerSecond, LogThroughputColumn.MegabytesPerSecond);
    }
}
