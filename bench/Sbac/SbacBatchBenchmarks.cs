using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Chainspace.Sbac.Tests;

namespace Chainspace.Bench.Sbac;

/// <summary>
/// PBFT + S-BAC together: 2 shards × 4 replicas in one process on one thread, in-memory networking
/// (<see cref="InProcessSbacCluster"/>), pre-built Dummy transactions that are all valid and all commit.
/// One operation = one transaction submitted and decided on every replica of every shard it touches, so
/// Allocated is bytes per committed transaction and Tx/s = 1 / Mean.
///
/// Mix: <c>OneInput</c> is the criterion: 1-input Dummy transactions, the input in either shard;
/// by hash about half of them put their output in the other shard, which creates it through Create on
/// the input shard's LOCALPREPARED(commit) proof (vote batches within the input shard, proof, Create in
/// the other shard, its signed receipt back). <c>TwoShard10Pct</c> replaces one transaction in ten by a
/// 2-input one spending a token of each shard (both shards concerned: Prepare in both, cross-shard votes,
/// Accept in both). Signatures: Ed25519 or the simulator's keyed hash, on PBFT messages and vote batches.
/// Transactions are built outside the measured region ([IterationSetup], so one invocation per iteration).
/// Iterations are capped (2 warm-up, 5 measured): every invocation adds 8192 transactions to the state,
/// and a PBFT checkpoint costs O(state) (digest and snapshot), so later iterations are slower; the
/// figure is for a state of roughly 30k–100k transactions per shard.
/// Run: dotnet run -c Release --project bench -- --filter '*Sbac*' --job short
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SbacColumnsConfig))]
[WarmupCount(2)]
[IterationCount(5)]
public class SbacBatchBenchmarks
{
    public const int TransactionsPerInvoke = 8192;
    public enum Workload { OneInput, TwoShard10Pct }

    [Params(256, 1024)]
    public int BatchSize { get; set; }

    [Params(ClusterAuthentication.KeyedHash, ClusterAuthentication.Ed25519)]
    public ClusterAuthentication Auth { get; set; }

    [Params(Workload.OneInput)]
    public Workload Mix { get; set; }

    /// <summary>Batches between PBFT checkpoints. 32 (the default) puts a checkpoint every 8k–32k transactions,
    /// more often than a node's default (1024 batches of ~100 requests, ~100k transactions), so the O(state)
    /// checkpoint weighs more here than on a node; CHAINSPACE_BENCH_CHECKPOINT_INTERVALS=32,1024 shows both.</summary>
    [ParamsSource(nameof(CheckpointIntervals))]
    public int CheckpointInterval { get; set; }

    public static IEnumerable<int> CheckpointIntervals => BenchEnvironment.List("CHAINSPACE_BENCH_CHECKPOINT_INTERVALS", [32], BenchEnvironment.ParseInt);

    private InProcessSbacCluster _cluster = null!;
    private DummyWorkload _workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new InProcessClusterOptions
        {
            BatchSize = BatchSize,
            Authentication = Auth,
            TransactionsCapacity = 1 << 20,   // no table resize during a short or default run
            CheckpointInterval = CheckpointInterval,
        };
        var map = Chainspace.Core.Cluster.ClusterConfig.CreateLocal(options.Shards, options.ReplicasPerShard, seed: "sbac-bench").Config.ShardMap;
        _workload = new DummyWorkload(map, TransactionsPerInvoke, Mix == Workload.TwoShard10Pct ? 100 : 0);
        _cluster = new InProcessSbacCluster(options, _workload.Genesis.Select(t => t.Id));
        for (int i = 0; i < 3; i++)   // warm up pools, tables and queues
        {
            _workload.Prepare(1);
            _cluster.RunRound(_workload.Take());
        }
    }

    /// <summary>Enough rounds for any invocation count the pilot stage picks for a ~0.1–1 s operation.</summary>
    [IterationSetup]
    public void BuildRounds() => _workload.Prepare(4);

    [Benchmark(OperationsPerInvoke = TransactionsPerInvoke)]
    public void CommitTransactions() => _cluster.RunRound(_workload.Take());
}

/// <summary>Committed transactions per second from the mean, next to BenchmarkDotNet's own columns.</summary>
public sealed class SbacColumnsConfig : ManualConfig
{
    public SbacColumnsConfig() => AddColumn(new OperationsPerSecondColumn("Tx/s", "Transactions committed on every replica of every shard they touch, per second (1 / Mean)"));
}
