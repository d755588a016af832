using System.CommandLine;
using System.Globalization;
using Chainspace.Client;
using Chainspace.LoadGen;
using Chainspace.Node.Config;

// Chainspace.LoadGen [local] [--shards 2 --replicas 4 --inputs 1 ...]   start a local cluster, load it, stop it
// Chainspace.LoadGen run --cluster cluster.json [...]                   load a running cluster (e.g. on EC2)

// The client's decisions arrive on the socket engine's thread with no thread-pool hop, as on the nodes; the
// closed loop sends the next transaction from there. Node processes set it for themselves.
Chainspace.Transport.Sockets.SocketCompletions.RunInline();
var shards = new Option<int>("--shards") { Description = "shards (K)", DefaultValueFactory = _ => 2 };
var replicas = new Option<int>("--replicas") { Description = "replicas per shard (3f+1)", DefaultValueFactory = _ => 4 };
var inputs = new Option<int>("--inputs") { Description = "inputs per transaction, each in a random shard", DefaultValueFactory = _ => 1 };
var rate = new Option<int>("--rate") { Description = "open loop: transactions per second (0: closed loop)", DefaultValueFactory = _ => 0 };
var concurrency = new Option<int>("--concurrency") { Description = "closed loop: transactions in flight", DefaultValueFactory = _ => 256 };
var duration = new Option<double>("--duration") { Description = "measured seconds (after the warm-up)", DefaultValueFactory = _ => 15 };
var warmup = new Option<double>("--warmup") { Description = "seconds of load before measuring (tiered JIT and pools settle in about 5 s)", DefaultValueFactory = _ => 5 };
var objects = new Option<int>("--objects") { Description = "genesis Dummy objects (the input pool; 0: enough for the run)", DefaultValueFactory = _ => 0 };
var transport = new Option<string>("--transport") { Description = "socket or dotnetty", DefaultValueFactory = _ => "socket" };
transport.AcceptOnlyFromAmong("socket", "dotnetty");
var basePort = new Option<int>("--base-port") { Description = "first replica port (0: a free range)", DefaultValueFactory = _ => 0 };
var noFsync = new Option<bool>("--no-fsync") { Description = "do not fsync the logs (experiments only: a crash may lose vouched state)" };
var pipelineDepth = new Option<int>("--pipeline-depth") { Description = "PBFT batches in flight per shard (cluster setting pipelineDepth)", DefaultValueFactory = _ => new NodeSettings().PipelineDepth };
var compressMin = new Option<int>("--compress-min") { Description = "LZ4-compress peer frames of at least this many bytes, 0 never (cluster setting compressBytesMin)", DefaultValueFactory = _ => new NodeSettings().CompressBytesMin };
var batchMax = new Option<int>("--batch-max") { Description = "requests per PBFT batch at most (cluster setting batchRequestsMax)", DefaultValueFactory = _ => new NodeSettings().BatchRequestsMax };
var keep = new Option<bool>("--keep") { Description = "keep the cluster directory (keys, cluster file, logs, node logs)" };
var cluster = new Option<FileInfo>("--cluster") { Description = "cluster file of a running cluster", Required = true };

var local = new Command("local", "start K × n replica processes on 127.0.0.1, run the load, stop and clean up (the default)")
{
    shards, replicas, inputs, rate, concurrency, duration, warmup, objects, transport, basePort, noFsync, pipelineDepth, batchMax, compressMin, keep,
};
var run = new Command("run", "load a running cluster described by a cluster file")
{
    cluster, inputs, rate, concurrency, duration, warmup,
};
var root = new RootCommand("Chainspace load generator: committed tx/s and latency of Dummy transactions")
{
    local, run, shards, replicas, inputs, rate, concurrency, duration, warmup, objects, transport, basePort, noFsync, pipelineDepth, batchMax, compressMin, keep,
};

LoadOptions Load(ParseResult p)
{
    int r = p.GetValue(rate), c = p.GetValue(concurrency);
    double d = p.GetValue(duration), w = p.GetValue(warmup);
    if (r < 0) throw new ArgumentException("--rate: must be >= 0");
    if (c < 1) throw new ArgumentException("--concurrency: must be >= 1");
    if (d <= 0 || w < 0) throw new ArgumentException("--duration must be > 0 and --warmup >= 0");
    if (p.GetValue(inputs) < 1) throw new ArgumentException("--inputs: must be >= 1");
    return new LoadOptions { Rate = r, Concurrency = c, Duration = TimeSpan.FromSeconds(d), Warmup = TimeSpan.FromSeconds(w) };
}

async Task<int> LocalAsync(ParseResult p, CancellationToken token)
{
    // The load generator shares the cores with the nodes it starts: one epoll thread, as they have (LocalCluster).
    Chainspace.Transport.Sockets.SocketCompletions.UseEngineThreads(1);
    LoadOptions load;
    int k = p.GetValue(shards), n = p.GetValue(replicas), m = p.GetValue(inputs);
    try
    {
        load = Load(p);
        if (k < 1) throw new ArgumentException("--shards: must be >= 1");
        if (n < 4 || n % 3 != 1) throw new ArgumentException("--replicas: must be 3f+1 with f >= 1 (4, 7, 10, ...)");
        if (p.GetValue(pipelineDepth) is < 1 or > 1024) throw new ArgumentException("--pipeline-depth: must be between 1 and 1024");
        if (p.GetValue(batchMax) < 1) throw new ArgumentException("--batch-max: must be >= 1");
        if (p.GetValue(compressMin) is < 0 or (> 0 and < 64)) throw new ArgumentException("--compress-min: must be 0 (never) or at least 64");
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    // Enough objects for the whole run at a rate above what 2 cores reach (closed loop: about 12k tx/s with 256 in
    // flight at 1 input), unless given: the pool is part of every checkpoint snapshot, so an oversized one slows the
    // cluster down. Inputs fall on shards at random, so each shard's share of the pool needs only a small margin
    // (a few hundred objects at these sizes; 3 % plus 1,000 here). A run that uses up its workload says so in its summary.
    double seconds = (load.Warmup + load.Duration).TotalSeconds;
    int closedLoopCeiling = load.Concurrency >= 512 ? 16_000 : 13_000;
    int expectedTx = load.Rate > 0 ? (int)(load.Rate * seconds * 1.05) + 1000 : (int)Math.Min(closedLoopCeiling * seconds, 2_000_000);
    int pool = p.GetValue(objects) is > 0 and var o ? o : Math.Max(20_000, expectedTx * m + expectedTx * m / 32 + 1000);
    var settings = new NodeSettings
    {
        Transport = p.GetValue(transport)!,
        Fsync = !p.GetValue(noFsync),
        PipelineDepth = p.GetValue(pipelineDepth),
        BatchRequestsMax = p.GetValue(batchMax),
        CompressBytesMin = p.GetValue(compressMin),
    };
    var genesis = new GenesisSpec { Label = "bench", DummyObjects = pool };
    Console.Error.WriteLine($"local cluster: {k} shards × {n} replicas, {m}-input Dummy transactions, {(load.Rate > 0 ? $"open loop {load.Rate} tx/s" : $"closed loop, {load.Concurrency} in flight")}, {pool:N0} genesis objects, transport {settings.Transport}, fsync {(settings.Fsync ? "on" : "off")}");
    await using var local = LocalCluster.Create(k, n, p.GetValue(basePort), settings, genesis, p.GetValue(keep), line => Console.Error.WriteLine(line));
    local.StartAll();   // the nodes compute their genesis while the workload is built
    var started = System.Diagnostics.Stopwatch.StartNew();
    var work = Workload.Build(local.File, m, expectedTx, seed: 1);
    Console.Error.WriteLine($"built {work.Count:N0} transactions in {started.Elapsed.TotalSeconds:F1} s");
    return await RunLoadAsync(local.File, work, load, TimeSpan.FromSeconds(60), token);
}

async Task<int> RunAsync(ParseResult p, CancellationToken token)
{
    ClusterFile file;
    LoadOptions load;
    try
    {
        file = ClusterFile.Load(p.GetRequiredValue(cluster).FullName);
        load = Load(p);
    }
    catch (Exception e) when (e is ConfigException or ArgumentException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    double seconds = (load.Warmup + load.Duration).TotalSeconds;
    int expectedTx = load.Rate > 0 ? (int)(load.Rate * seconds * 1.05) + 1000 : int.MaxValue;
    var work = Workload.Build(file, p.GetValue(inputs), Math.Min(expectedTx, file.Genesis.DummyObjects), seed: Environment.TickCount);
    return await RunLoadAsync(file, work, load, TimeSpan.FromSeconds(30), token);
}

async Task<int> RunLoadAsync(ClusterFile file, List<PreparedTransaction> work, LoadOptions load, TimeSpan connectWait, CancellationToken token)
{
    ChainspaceClient client;
    try
    {
        client = await ChainspaceClient.ConnectAsync(file, connectWait, cancellationToken: token);
        // Every replica connected and answering: the cluster is ready.
        var deadline = DateTime.UtcNow + connectWait;
        while (!client.AllConnected && DateTime.UtcNow < deadline) await Task.Delay(50, token);
        foreach (var r in file.Cluster.AllReplicas) await client.QueryStatsAsync(r.Id, connectWait);
    }
    catch (Exception e) when (e is TimeoutException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    await using (client)
    {
        Console.Error.WriteLine($"cluster ready; {work.Count:N0} transactions prepared");
        var summary = await new LoadRunner(client, work, load).RunAsync(token);
        Console.Out.WriteLine(summary.Format());
        return summary.Committed > 0 ? 0 : 1;
    }
}

local.SetAction(LocalAsync);
root.SetAction(LocalAsync);
run.SetAction(RunAsync);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;   // unwind through the finally blocks: the cluster is stopped and removed
    cancel.Cancel();
};
try
{
    return await root.Parse(args).InvokeAsync(cancellationToken: cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted: cluster stopped");
    return 130;
}
