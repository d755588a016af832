using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench;

/// <summary>
/// A numeric column computed from a benchmark case's report (its mean, allocation, parameters): what every
/// throughput column here has in common. A case without a result, or a value that cannot be computed, shows "-".
/// </summary>
public abstract class DerivedColumn(string name, string legend) : IColumn
{
    public string Id => GetType().Name + name;
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

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase] is { ResultStatistics: not null } report && Compute(report, benchmarkCase) is { } value ? Format(value) : "-";

    /// <summary>The value for a case that has a result (<see cref="BenchmarkReport.ResultStatistics"/> is set).</summary>
    protected abstract double? Compute(BenchmarkReport report, BenchmarkCase benchmarkCase);

    protected virtual string Format(double value) => value.ToString(value >= 100 ? "N0" : "N2", CultureInfo.InvariantCulture);
}

/// <summary>Operations per second from BenchmarkDotNet's mean (1 / Mean, whose operation is set by OperationsPerInvoke), under a name that says what an operation is.</summary>
public sealed class OperationsPerSecondColumn(string name, string legend) : DerivedColumn(name, legend)
{
    protected override double? Compute(BenchmarkReport report, BenchmarkCase benchmarkCase) => 1e9 / report.ResultStatistics!.Mean;

    protected override string Format(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
