using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace Chainspace.Bench;

public static class Program
{
    /// <summary>
    /// Runs the suites chosen on the command line (BenchmarkDotNet's own switches, e.g.
    /// <c>--filter *Codec*</c>, <c>--job short</c>). Workstation, non-concurrent GC and no tiered PGO,
    /// so allocation counts are exact and runs comparable.
    /// </summary>
    public static int Main(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddJob(Job.Default
                .WithGcServer(false)
                .WithGcConcurrent(false)
                .WithEnvironmentVariable("DOTNET_TieredPGO", "0")
                .AsDefault());
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
