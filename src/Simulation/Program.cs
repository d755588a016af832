using System.Diagnostics;
using Chainspace.Consensus;
using Chainspace.Sbac;

namespace Chainspace.Simulation;

/// <summary>
/// <c>--seeds N [--start S]</c> runs N seeds and prints each failure with its replay command;
/// <c>--seed S [--trace]</c> replays one seed (with every event when traced); <c>--bug Name</c> plants a PBFT bug.
/// <c>--multi</c> runs the multi-shard PBFT + S-BAC simulator instead; <c>--sbac-bug Name</c> plants an S-BAC bug there.
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: [--multi] --seeds N [--start S] | [--multi] --seed S [--trace]  [--bug SkipBatchDigestCheck|SkipNewViewProofCheck|ExecuteWhenPrepared]" +
        "  [--sbac-bug SkipLockCheck|AcceptWithoutProof] (implies --multi)";

    public static int Main(string[] args)
    {
        ulong start = 1;
        int count = 100;
        ulong? single = null;
        bool trace = false, multi = false;
        var bugs = PlantedBug.None;
        var sbacBugs = SbacBugs.None;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seeds": count = int.Parse(args[++i]); break;
                case "--start": start = ulong.Parse(args[++i]); break;
                case "--seed": single = ulong.Parse(args[++i]); break;
                case "--trace": trace = true; break;
                case "--multi": multi = true; break;
                case "--bug": bugs |= Enum.Parse<PlantedBug>(args[++i]); break;
                case "--sbac-bug": sbacBugs |= Enum.Parse<SbacBugs>(args[++i]); multi = true; break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        if (single is ulong seed)
        {
            try
            {
                string summary = RunOne(seed, multi, bugs, sbacBugs, trace ? Console.Out : null);
                Console.WriteLine($"seed {seed}: ok ({summary})");
                return 0;
            }
            catch (SimulationFailure failure)
            {
                Console.WriteLine(failure.Message);
                return 1;
            }
        }
        var clock = Stopwatch.StartNew();
        int failed = 0;
        for (ulong s = start; s < start + (ulong)count; s++)
        {
            try
            {
                RunOne(s, multi, bugs, sbacBugs, null);
            }
            catch (SimulationFailure failure)
            {
                failed++;
                Console.WriteLine(failure.Message);
            }
        }
        Console.WriteLine($"{count} {(multi ? "multi-shard " : "")}seeds from {start}: {count - failed} ok, {failed} failed in {clock.Elapsed.TotalSeconds:0.0} s");
        return failed == 0 ? 0 : 1;
    }

    private static string RunOne(ulong seed, bool multi, PlantedBug bugs, SbacBugs sbacBugs, TextWriter? trace)
    {
        if (!multi)
        {
            var sim = Simulator.Run(SimulationOptions.FromSeed(seed, bugs), trace);
            return $"{sim.Steps} steps, {sim.Checker.DeliveredSequences} batches";
        }
        var options = MultiShardOptions.FromSeed(seed, sbacBugs);
        if (bugs != PlantedBug.None) options = options with { Replica = options.Replica with { PlantedBugs = bugs } };
        var multiSim = MultiShardSimulator.Run(options, trace);
        return $"{multiSim.Steps} steps, {multiSim.Checker.DecidedTransactions} transactions decided, {multiSim.Checker.CommittedTransactions} committed";
    }
}
