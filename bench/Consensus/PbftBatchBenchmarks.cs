using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Chainspace.Consensus;
using Chainspace.Core.Cluster;

namespace Chainspace.Bench.Consensus;

/// <summary>
/// Batched PBFT, 4 replicas in one process over an in-memory network, 0/0 requests (empty operation, empty
/// reply). One operation = one request ordered and executed by all four replicas, so Allocated is bytes per
/// request and Requests/s = 1 / Mean. Authentication compares the simulator's keyed hash (the cost of a
/// per-pair MAC scheme) with Ed25519 signatures on every pre-prepare, prepare and commit (one per batch each).
/// Run: dotnet run -c Release --project bench -- --filter '*Pbft*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PbftColumnsConfig))]
public class PbftBatchBenchmarks
{
    public const int RequestsPerInvoke = 16384;
    public enum Authentication { KeyedHash, Ed25519 }

    [Params(256, 1024)]
    public int BatchSize { get; set; }

    [Params(Authentication.KeyedHash, Authentication.Ed25519)]
    public Authentication Auth { get; set; }

    private InMemoryShard _shard = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new ReplicaOptions
        {
            BatchRequestsMax = BatchSize,
            PipelineDepth = 16,
            CheckpointInterval = 32,
            WatermarkWindow = 64,
            ClientWindow = 4096,
            PendingRequestsMax = 65536,
        };
        Func<int, IReplicaSigner> signer;
        if (Auth == Authentication.Ed25519)
        {
            var (config, keys) = ClusterConfig.CreateLocal(1, 4);
            signer = i => new Ed25519ReplicaSigner(config.Shard(0), keys[new NodeId(0, (ushort)i)]);
        }
        else
        {
            signer = i => new KeyedHashSigner("bench"u8, 4, i);
        }
        _shard = new InMemoryShard(4, options, signer, clients: 64);
        for (int i = 0; i < 4; i++) _shard.Round(RequestsPerInvoke); // warm up pools, tables and queues
    }

    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public void OrderRequests() => _shard.Round(RequestsPerInvoke);
}

/// <summary>Requests/s from the mean, and the batch size, next to BenchmarkDotNet's own columns.</summary>
public sealed class PbftColumnsConfig : ManualConfig
{
    public PbftColumnsConfig() => AddColumn(new OperationsPerSecondColumn("Requests/s", "Requests ordered and executed by all replicas per second (1 / Mean)"));
}
