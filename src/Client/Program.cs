using System.CommandLine;
using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Node;
using Chainspace.Node.Config;

// chainspace <command>: cluster set-up, Dummy transactions, object lookups and node stats.
var clusterOption = new Option<FileInfo>("--cluster") { Description = "cluster file", Required = true };
var timeoutOption = new Option<double>("--timeout") { Description = "seconds to wait for a decision or answer", DefaultValueFactory = _ => 30 };

var init = new Command("init-local", "write a cluster file and one key file per replica for K × n replicas on 127.0.0.1");
var dirOption = new Option<DirectoryInfo>("--dir") { Description = "output directory", Required = true };
var shardsOption = new Option<int>("--shards") { DefaultValueFactory = _ => 2 };
var replicasOption = new Option<int>("--replicas") { DefaultValueFactory = _ => 4 };
var portOption = new Option<int>("--base-port") { DefaultValueFactory = _ => 17000 };
var objectsOption = new Option<int>("--dummy-objects") { Description = "genesis Dummy tokens", DefaultValueFactory = _ => 100_000 };
init.Options.Add(dirOption);
init.Options.Add(shardsOption);
init.Options.Add(replicasOption);
init.Options.Add(portOption);
init.Options.Add(objectsOption);
init.SetAction(p =>
{
    try
    {
        var dir = p.GetRequiredValue(dirOption);
        dir.Create();
        var (file, keys) = ClusterFile.CreateLocal(p.GetValue(shardsOption), p.GetValue(replicasOption), p.GetValue(portOption),
            new NodeSettings(), new GenesisSpec { Label = "genesis", DummyObjects = p.GetValue(objectsOption) });
        file.Save(Path.Combine(dir.FullName, "cluster.json"));
        foreach (var (id, key) in keys) NodeKeyFile.Save(Path.Combine(dir.FullName, $"{id}.key"), id, key);
        Console.WriteLine($"wrote {Path.Combine(dir.FullName, "cluster.json")} and {keys.Count} key files");
        return 0;
    }
    catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
});

var dummy = new Command("dummy", "spend genesis Dummy tokens (by index) in one transaction and wait for the decision");
var indexesOption = new Option<int[]>("--index") { Description = "genesis token indexes to spend (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
dummy.Options.Add(clusterOption);
dummy.Options.Add(indexesOption);
dummy.Options.Add(timeoutOption);
dummy.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    var indexes = p.GetRequiredValue(indexesOption);
    if (indexes.Length == 0 || indexes.Any(i => i < 0 || i >= file!.Genesis.DummyObjects))
    {
        Console.Error.WriteLine($"error: --index: each index must be in 0..{file!.Genesis.DummyObjects - 1}");
        return 2;
    }
    var tokens = GenesisObjects.DummyTokens(file!.Genesis).ToArray();
    var tx = new PreparedTransaction(Dummy.Spend(indexes.Select(i => tokens[i]).ToArray()), file.Cluster.ShardMap);
    return await SubmitAndReport(file, tx, p.GetValue(timeoutOption), token);
});

var state = new Command("state", "look up an object's state (absent, active, locked, inactive) in its shard");
var idOption = new Option<string>("--id") { Description = "object id (hex)", Required = true };
state.Options.Add(clusterOption);
state.Options.Add(idOption);
state.Options.Add(timeoutOption);
state.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    Hash256 id;
    try
    {
        id = Hash256.Parse(p.GetRequiredValue(idOption));
    }
    catch (FormatException)
    {
        Console.Error.WriteLine("error: --id: not a 64-digit hex object id");
        return 2;
    }
    try
    {
        await using var client = await ChainspaceClient.ConnectAsync(file!, TimeSpan.FromSeconds(p.GetValue(timeoutOption)), cancellationToken: token);
        var s = await client.QueryObjectAsync(id, TimeSpan.FromSeconds(p.GetValue(timeoutOption)));
        Console.WriteLine($"{id}: {s.ToString().ToLowerInvariant()} (shard {file!.Cluster.ShardMap.ShardOf(id)})");
        return 0;
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var stats = new Command("stats", "print every replica's view, progress and counters");
stats.Options.Add(clusterOption);
stats.Options.Add(timeoutOption);
stats.SetAction(async (p, token) =>
{
    if (!TryLoad(p.GetRequiredValue(clusterOption), out var file)) return 2;
    try
    {
        await using var client = await ChainspaceClient.ConnectAsync(file!, TimeSpan.FromSeconds(p.GetValue(timeoutOption)), cancellationToken: token);
        int failures = 0;
        foreach (var r in file!.Cluster.AllReplicas)
        {
            try
            {
                var s = await client.QueryStatsAsync(r.Id, TimeSpan.FromSeconds(5));
                Console.WriteLine($"{r.Id}: view {s.View}{(s.ViewActive ? "" : " (changing)")}{(s.IsPrimary ? " primary" : "")} executed {s.LastExecuted} stable {s.StableSequence} committed {s.Committed} aborted {s.Aborted}");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                Console.WriteLine($"{r.Id}: unreachable ({e.Message})");
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }
    catch (TimeoutException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

var root = new RootCommand("Chainspace client") { init, dummy, state, stats };
return await root.Parse(args).InvokeAsync();

static bool TryLoad(FileInfo path, out ClusterFile? file)
{
    try
    {
        file = ClusterFile.Load(path.FullName);
        return true;
    }
    catch (ConfigException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        file = null;
        return false;
    }
}

static async Task<int> SubmitAndReport(ClusterFile file, PreparedTransaction tx, double timeoutSeconds, CancellationToken token)
{
    try
    {
        await using var client = await ChainspaceClient.ConnectAsync(file, TimeSpan.FromSeconds(timeoutSeconds), cancellationToken: token);
        client.Timeout = TimeSpan.FromSeconds(timeoutSeconds);
        var outcome = await client.SubmitAsync(tx);
        Console.WriteLine($"{tx.Id}: {outcome.ToString().ToLowerInvariant()} (shards {string.Join(",", tx.ConcernedShards)})");
        return outcome switch { Outcome.Committed => 0, Outcome.Aborted => 3, Outcome.Rejected => 4, _ => 5 };
    }
    catch (TimeoutException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
