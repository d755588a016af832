using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench.Storage;

/// <summary>
/// Records/s and payload MB/s from BenchmarkDotNet's mean, for benchmarks whose operation is one record
/// (OperationsPerInvoke) and whose <c>RecordSize</c> parameter is the payload size.
/// </summary>
public sealed class LogThroughputColumn(string name, bool megabytes) : IColumn
{
    public static readonly IColumn RecordsPerSecond = new LogThroughputColumn("Records/s", megabytes: false);
    public static readonly IColumn MegabytesPerSecond = new LogThroughputColumn("MB/s", megabytes: true);

    public string Id => nameof(LogThroughputColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => megabytes ? "Payload megabytes (10^6) appended per second" : "Records appended per second";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } stats) return "-";
        if (benchmarkCase.Parameters["RecordSize"] is not int bytes) return "-";
        double perSecond = 1e9 / stats.Mean;
        double value = megabytes ? perSecond * bytes / 1e6 : perSecond;
        return value.ToString(value >= 100 ? "N0" : "N2", System.Globalization.CultureInfo.InvariantCulture);
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
