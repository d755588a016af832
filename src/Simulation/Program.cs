using System.Diagnostics;
using Chainspace.Consensus;

namespace Chainspace.Simulation;

/// <summary>
/// <c>--seeds N [--start S]</c> runs N seeds and prints each failure with its replay command;
/// <c>--seed S [--trace]</c> replays one seed (with every event when traced); <c>--bug Name</c> plants a bug.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        ulong start = 1;
        int count = 100;
        ulong? single = null;
        bool trace = false;
        var bugs = PlantedBug.None;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seeds": count = int.Parse(args[++i]); break;
                case "--start": start = ulong.Parse(args[++i]); break;
                case "--seed": single = ulong.Parse(args[++i]); break;
                case "--trace": trace = true; break;
                case "--bug": bugs |= Enum.Parse<PlantedBug>(args[++i]); break;
                default:
                    Console.Error.WriteLine("usage: --seeds N [--start S] | --seed S [--trace]  [--bug SkipBatchDigestCheck|SkipNewViewProofCheck|ExecuteWhenPrepared]");
                    return 2;
            }
        }
        if (single is ulong seed)
        {
            try
            {
                var sim = Simulator.Run(SimulationOptions.FromSeed(seed, bugs), trace ? Console.Out : null);
                Console.WriteLine($"seed {seed}: ok ({sim.Steps} steps, {sim.Checker.DeliveredSequences} batches)");
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
                Simulator.Run(SimulationOptions.FromSeed(s, bugs));
            }
            catch (SimulationFailure failure)
            {
                failed++;
                Console.WriteLine(failure.Message);
            }
        }
        Console.WriteLine($"{count} seeds from {start}: {count - failed} ok, {failed} failed in {clock.Elapsed.TotalSeconds:0.0} s");
        return failed == 0 ? 0 : 1;
    }
}
