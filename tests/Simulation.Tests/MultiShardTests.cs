using Chainspace.Sbac;
using Chainspace.Simulation;

namespace Chainspace.Simulation.Tests;

/// <summary>
/// The multi-shard CI seed budget: 500 seeds of K = 2..5 shards × 4 replicas (f = 1) running PBFT + S-BAC
/// under loss, duplication, delay, partitions, crashes with torn disks, Byzantine replicas (PBFT
/// misbehaviour, equivocating and replayed votes, replayed and forged Accepts, wrong bodies) and a Byzantine
/// client, with a CSCoin and Dummy workload that includes deliberate double spends. A failure message carries
/// the seed and the one-line replay command.
/// More on demand: dotnet run --project src/Simulation -c Release -- --multi --seeds 5000 --start 1000
/// </summary>
public class MultiShardSeedTests
{
    public const int SeedsPerRange = 50;
    public const int RangeCount = 10;

    public static TheoryData<int> Ranges()
    {
        var data = new TheoryData<int>();
        for (int range = 0; range < RangeCount; range++) data.Add(range);
        return data;
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public void MultiShard_MixedFaultSeeds_AtomicityLocksSupplyAndLivenessHold(int range)
    {
        var failures = new List<string>();
        for (ulong seed = (ulong)(range * SeedsPerRange) + 1; seed <= (ulong)((range + 1) * SeedsPerRange); seed++)
        {
            try
            {
                MultiShardSimulator.Run(MultiShardOptions.FromSeed(seed));
            }
            catch (SimulationFailure failure)
            {
                failures.Add(failure.Message);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void MultiShard_SameSeed_SameRunBitForBit()
    {
        var a = new StringWriter();
        var b = new StringWriter();
        var simA = MultiShardSimulator.Run(MultiShardOptions.FromSeed(7), a);
        var simB = MultiShardSimulator.Run(MultiShardOptions.FromSeed(7), b);
        Assert.Equal(a.ToString(), b.ToString());
        Assert.Equal(simA.Steps, simB.Steps);
        Assert.True(simA.Checker.CommittedTransactions > 0);
    }

    [Fact]
    public void MultiShard_SeedMix_CoversShardCountsByzantineCrashesAndEd25519()
    {
        var shardCounts = new HashSet<int>();
        int byzantineReplicas = 0, equivocators = 0, crashes = 0, partitions = 0, byzantineClients = 0, ed25519 = 0, doubleSpends = 0;
        for (ulong seed = 1; seed <= RangeCount * SeedsPerRange; seed++)
        {
            var o = MultiShardOptions.FromSeed(seed);
            shardCounts.Add(o.Shards);
            Assert.Equal(1, o.F);
            for (int s = 0; s < o.Shards; s++)
            {
                int faulty = 0;
                for (int r = 0; r < o.Replicas; r++)
                {
                    if (o.IsHonest(s, r)) continue;
                    faulty++;
                    byzantineReplicas++;
                    if (o.Attacks[s][r].HasFlag(SbacAttack.EquivocateVotes)) equivocators++;
                }
                Assert.True(faulty <= o.F, $"seed {seed}: shard {s} has {faulty} Byzantine replicas");
            }
            if (o.Crashes > 0) crashes++;
            if (o.Partitions > 0) partitions++;
            if (o.ByzantineClient) byzantineClients++;
            if (o.Ed25519Votes) ed25519++;
            if (o.DoubleSpend > 0) doubleSpends++;
        }
        Assert.Equal([2, 3, 4, 5], shardCounts.Order());
        Assert.True(byzantineReplicas > 300 && equivocators > 100 && crashes > 150 && partitions > 100 && byzantineClients > 150 && ed25519 > 25 && doubleSpends > 400,
            $"byzantine {byzantineReplicas}, equivocators {equivocators}, crashes {crashes}, partitions {partitions}, byzantine clients {byzantineClients}, ed25519 {ed25519}, double spends {doubleSpends}");
    }

    [Fact]
    public void MultiShard_FailureMessage_NamesSeedAndMultiShardReplayCommand()
    {
        var sim = new MultiShardSimulator(MultiShardOptions.FromSeed(99, SbacBugs.SkipLockCheck));
        var failure = Assert.Throws<SimulationFailure>(() => sim.Fail("example"));
        Assert.Contains("seed 99", failure.Message);
        Assert.Contains("--multi --seed 99 --sbac-bug SkipLockCheck --trace", failure.Message);
    }
}

/// <summary>
/// Self-test of the multi-shard simulator: each planted S-BAC bug must be caught (some seed fails an
/// invariant) within a small seed budget. An undetected planted bug would mean the checker is blind to it.
/// </summary>
public class SbacPlantedBugTests
{
    private const int Budget = 40;

    [Theory]
    [InlineData(SbacBugs.SkipLockCheck)]
    [InlineData(SbacBugs.AcceptWithoutProof)]
    public void SbacPlantedBug_WithinSeedBudget_IsCaughtByMultiShardSimulator(SbacBugs bug)
    {
        for (ulong seed = 1; seed <= Budget; seed++)
        {
            try
            {
                MultiShardSimulator.Run(MultiShardOptions.FromSeed(seed, bug));
            }
            catch (SimulationFailure failure)
            {
                Assert.Contains($"seed {seed}", failure.Message);
                return;
            }
        }
        Assert.Fail($"planted bug {bug} survived {Budget} seeds: the multi-shard simulator cannot see it");
    }

    [Fact]
    public void SbacPlantedBug_None_SameSeedsPass()
    {
        // The seeds that catch the planted bugs first are clean without them: the failure is the bug's.
        MultiShardSimulator.Run(MultiShardOptions.FromSeed(1));
        MultiShardSimulator.Run(MultiShardOptions.FromSeed(2));
    }
}
