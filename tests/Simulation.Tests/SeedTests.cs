using Chainspace.Consensus;
using Chainspace.Simulation;

[assembly: CollectionBehavior(MaxParallelThreads = 2)]

namespace Chainspace.Simulation.Tests;

/// <summary>
/// The CI seed budget: 1,200 seeds of mixed faults (loss, duplication, delay, partitions, crashes with torn
/// disks, up to f Byzantine replicas including equivocating and forging primaries), in ranges xunit runs in
/// parallel. A failure message carries the seed and the one-line replay command.
/// More on demand: dotnet run --project src/Simulation -c Release -- --seeds 10000 --start 5000
/// </summary>
public class SeedTests
{
    public const int SeedsPerRange = 100;

    public static TheoryData<int> Ranges()
    {
        var data = new TheoryData<int>();
        for (int range = 0; range < 12; range++) data.Add(range);
        return data;
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Simulation_MixedFaultSeeds_AllInvariantsAndLivenessHold(int range)
    {
        var failures = new List<string>();
        for (ulong seed = (ulong)(range * SeedsPerRange) + 1; seed <= (ulong)((range + 1) * SeedsPerRange); seed++)
        {
            try
            {
                Simulator.Run(SimulationOptions.FromSeed(seed));
            }
            catch (SimulationFailure failure)
            {
                failures.Add(failure.Message);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Simulation_SameSeed_SameRunBitForBit()
    {
        var a = new StringWriter();
        var b = new StringWriter();
        var simA = Simulator.Run(SimulationOptions.FromSeed(42), a);
        var simB = Simulator.Run(SimulationOptions.FromSeed(42), b);
        Assert.Equal(a.ToString(), b.ToString());
        Assert.Equal(simA.Steps, simB.Steps);
        Assert.True(simA.Checker.DeliveredSequences > 0);
    }

    [Fact]
    public void Simulation_SeedMix_CoversByzantineCrashesAndPartitions()
    {
        int byzantinePrimaries = 0, crashes = 0, partitions = 0, sevenReplicas = 0;
        for (ulong seed = 1; seed <= 1200; seed++)
        {
            var o = SimulationOptions.FromSeed(seed);
            if (o.Byzantine[0] != ByzantineMode.None) byzantinePrimaries++;
            if (o.Crashes > 0) crashes++;
            if (o.Partitions > 0) partitions++;
            if (o.Replicas == 7) sevenReplicas++;
        }
        Assert.True(byzantinePrimaries > 100 && crashes > 400 && partitions > 400 && sevenReplicas > 100,
            $"byzantine primaries {byzantinePrimaries}, crashes {crashes}, partitions {partitions}, n=7 {sevenReplicas}");
    }

    [Fact]
    public void Simulation_FailureMessage_NamesSeedAndReplayCommand()
    {
        var failure = new SimulationFailure(1234, "agreement: example");
        Assert.Contains("seed 1234", failure.Message);
        Assert.Contains("--seed 1234 --trace", failure.Message);
    }
}

/// <summary>
/// Self-test of the simulator: each planted bug must be caught (some seed fails an invariant) within the
/// CI budget of seeds. An undetected planted bug would mean the checker is blind to that class of bug.
/// </summary>
public class PlantedBugTests
{
    private const int Budget = 400;

    [Theory]
    [InlineData(PlantedBug.SkipBatchDigestCheck)]
    [InlineData(PlantedBug.SkipNewViewProofCheck)]
    [InlineData(PlantedBug.ExecuteWhenPrepared)]
    public void PlantedBug_WithinSeedBudget_IsCaughtBySimulator(PlantedBug bug)
    {
        for (ulong seed = 1; seed <= Budget; seed++)
        {
            try
            {
                Simulator.Run(SimulationOptions.FromSeed(seed, bug));
            }
            catch (SimulationFailure failure)
            {
                Assert.Contains($"seed {seed}", failure.Message); // any invariant counts
                return;
            }
        }
        Assert.Fail($"planted bug {bug} survived {Budget} seeds: the simulator cannot see it");
    }
}
