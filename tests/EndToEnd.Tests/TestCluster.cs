using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.LoadGen;
using Chainspace.Node;
using Chainspace.Node.Config;
using Chainspace.Node.Protocol;
using Chainspace.Storage.Objects;

namespace Chainspace.EndToEnd.Tests;

/// <summary>
/// A local cluster of real node processes for one test: 2 shards × 4 replicas on free 127.0.0.1 ports,
/// a small genesis (Dummy tokens and CSCoin accounts whose keys the test holds), short checkpoints and
/// timeouts so recovery and view changes happen within seconds. Disposing stops and removes everything.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const int AccountCount = 8;
    public const long AccountBalance = 1_000;

    private TestCluster(LocalCluster local, Ed25519KeyPair[] owners)
    {
        Local = local;
        Owners = owners;
        Accounts = GenesisObjects.Accounts(local.File.Genesis).ToArray();
        Tokens = GenesisObjects.DummyTokens(local.File.Genesis).ToArray();
    }

    public LocalCluster Local { get; }
    public ClusterFile File => Local.File;
    public Ed25519KeyPair[] Owners { get; }
    public ChainObject[] Accounts { get; }
    public ChainObject[] Tokens { get; }
    public ShardMap Map => File.Cluster.ShardMap;
    public IEnumerable<NodeId> Nodes => File.Cluster.AllReplicas.Select(r => r.Id);

    public static async Task<TestCluster> StartAsync(int dummyObjects = 4000, int shards = 2)
    {
        // Account ids depend on the owner keys: draw keys until the accounts span every shard (a handful of
        // draws at most), so cross-shard tests never depend on luck.
        Ed25519KeyPair[] owners;
        var map = new ShardMap((uint)shards);
        do
        {
            owners = Enumerable.Range(0, AccountCount).Select(_ => Ed25519KeyPair.Generate()).ToArray();
        }
        while (GenesisObjects.Accounts(new GenesisSpec { Label = "e2e", Accounts = owners.Select(o => new GenesisAccount(o.PublicKey, AccountBalance)).ToArray() })
                   .Select(a => map.ShardOf(a.Id)).Distinct().Count() < shards);
        var settings = new NodeSettings
        {
            TickMilliseconds = 5,
            CheckpointInterval = 4,   // batches grow with load: a short interval still gives checkpoints in a short test
            SnapshotChunkBytes = 4096, // so restarts and catch-ups move snapshots (tens of KB here) in several pieces
            WatermarkWindow = 32,
            RequestTimeoutTicks = 200,
            ViewChangeTimeoutTicks = 200,
            InitiatorBackupDelayTicks = 40,
            InitiatorRetryDelayTicks = 80,
        };
        var genesis = new GenesisSpec
        {
            Label = "e2e",
            DummyObjects = dummyObjects,
            Accounts = owners.Select(o => new GenesisAccount(o.PublicKey, AccountBalance)).ToArray(),
        };
        var local = LocalCluster.Create(shards, 4, 0, settings, genesis, keep: Environment.GetEnvironmentVariable("CHAINSPACE_E2E_KEEP") == "1", log: _ => { });
        var cluster = new TestCluster(local, owners);
        try
        {
            local.StartAll();
            try
            {
                await using var client = await cluster.ConnectAsync();
                await Eventually(() => client.AllConnected, TimeSpan.FromSeconds(60), "every replica accepts connections");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message} ({local.DescribeExited()})", e);
            }
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
        return cluster;
    }

    public async Task<ChainspaceClient> ConnectAsync()
    {
        var client = await ChainspaceClient.ConnectAsync(File, TimeSpan.FromSeconds(60));
        client.RetryAfter = TimeSpan.FromMilliseconds(500);
        client.Timeout = TimeSpan.FromSeconds(60);
        // ConnectAsync returns once each shard is reachable; tests query particular replicas, so wait for
        // every running one (a replica that is down is the test's business).
        await Eventually(() => Nodes.All(n => !Local.IsRunning(n) || client.IsConnected(n)), TimeSpan.FromSeconds(60), "the client reaches every running replica");
        return client;
    }

    public PreparedTransaction Prepare(Transaction tx) => new(tx, Map);

    /// <summary>Waits until every reachable replica of the object's shard reports <paramref name="expected"/>
    /// (backups execute a little after the replica that answered the client).</summary>
    public async Task AwaitStateAsync(ChainspaceClient client, Hash256 id, ObjectState expected, TimeSpan? limit = null)
    {
        uint shard = Map.ShardOf(id);
        string last = "";
        await EventuallyAsync(async () =>
        {
            var states = new List<string>();
            bool all = true;
            foreach (var r in File.Cluster.Shard((int)shard).Replicas)
            {
                if (!Local.IsRunning(r.Id)) continue;
                var state = await client.QueryObjectAsync(r.Id, id, TimeSpan.FromSeconds(5));
                states.Add($"{r.Id}={state}");
                all &= state == expected;
            }
            last = string.Join(" ", states);
            return all && states.Count > 0;
        }, limit ?? TimeSpan.FromSeconds(90), () => $"{id.ToShortString()} {expected} on every replica of shard {shard} (last: {last})");
    }

    public async Task<NodeStats> StatsAsync(ChainspaceClient client, NodeId node) => await client.QueryStatsAsync(node, TimeSpan.FromSeconds(10));

    public static async Task Eventually(Func<bool> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {limit.TotalSeconds:F0} s: {what}");
            await Task.Delay(50);
        }
    }

    public static Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan limit, string what) => EventuallyAsync(condition, limit, () => what);

    /// <summary>Retries until <paramref name="condition"/> holds; the description is built at the failure, so it can report the last observation.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan limit, Func<string> what)
    {
        var deadline = DateTime.UtcNow + limit;
        string last = "";
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                last = e.Message;   // a replica that is down or restarting: try again
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {limit.TotalSeconds:F0} s: {what()}{(last.Length > 0 ? $" (last error: {last})" : "")}");
            await Task.Delay(50);   // polling interval of a wait with a deadline
        }
    }

    public ValueTask DisposeAsync() => Local.DisposeAsync();
}
