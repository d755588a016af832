using System.CommandLine;
using Chainspace.Node;
using Chainspace.Node.Config;

// chainspace-node --cluster cluster.json --key s0r1.key [--data dir]
// One replica per process. SIGTERM or Ctrl-C stops it gracefully (the log is flushed); a restart with the
// same --data recovers from the log and catches up from its peers.

// Before any socket exists: received frames go from the socket engine's thread straight to the replica's queue
// (TransportOptions.InlineReceive), with no thread-pool hop in between.
Chainspace.Transport.Sockets.SocketCompletions.RunInline();
var cluster = new Option<FileInfo>("--cluster") { Description = "cluster file (JSON): shards, replicas, keys, settings, genesis", Required = true };
var key = new Option<FileInfo>("--key") { Description = "this node's key file (names the node)", Required = true };
var data = new Option<DirectoryInfo?>("--data") { Description = "directory of the node's log; omit to run without durability (experiments only)" };
var metricsPort = new Option<int?>("--metrics-port") { Description = "serve Prometheus metrics at http://<metrics-host>:<port>/metrics (off when omitted)" };
var metricsHost = new Option<string>("--metrics-host") { Description = "address the metrics endpoint listens on", DefaultValueFactory = _ => "127.0.0.1" };
metricsPort.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int?>() is { } p && (p < 1 || p > 65535)) r.AddError($"--metrics-port: {p} is outside 1..65535");
});
var root = new RootCommand("Chainspace replica: batched PBFT + S-BAC over the cluster file's shards") { cluster, key, data, metricsPort, metricsHost };
root.SetAction(async (parse, cancellation) =>
{
    ClusterFile file;
    Chainspace.Core.Cluster.NodeId id;
    Chainspace.Core.Crypto.Ed25519KeyPair pair;
    try
    {
        file = ClusterFile.Load(parse.GetRequiredValue(cluster).FullName);
        (id, pair) = NodeKeyFile.Load(parse.GetRequiredValue(key).FullName, file.Cluster);
    }
    catch (ConfigException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    // System.CommandLine turns SIGTERM and Ctrl-C into this token (a second handler of our own would race it).
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
    ReplicaNode node;
    try
    {
        node = new ReplicaNode(file, id, pair, parse.GetValue(data)?.FullName, line => Console.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"));
        await node.StartAsync(stop.Token);
    }
    catch (Exception e) when (e is ConfigException or IOException or Chainspace.Storage.Log.LogCorruptionException or System.Net.Sockets.SocketException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    PrometheusEndpoint? metrics = null;
    if (parse.GetValue(metricsPort) is { } port)
    {
        try
        {
            metrics = PrometheusEndpoint.Start(NodeMetrics.MeterName, parse.GetValue(metricsHost)!, port);
            Console.Out.WriteLine($"metrics at {metrics.Url}");
        }
        catch (System.Net.HttpListenerException e)
        {
            Console.Error.WriteLine($"error: --metrics-port {port}: cannot listen ({e.Message})");
            await node.DisposeAsync();
            return 1;
        }
    }
    using var metricsEndpoint = metrics;
    using var sampler = Environment.GetEnvironmentVariable("CHAINSPACE_ALLOC_SAMPLE") == "1" ? new AllocationSampler() : null;
    Console.Out.WriteLine("ready");
    try
    {
        await node.Stopped.WaitAsync(stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"error: replica loop failed: {e.Message}");
        await node.DisposeAsync();
        return 1;
    }
    await node.DisposeAsync();
    if (sampler is not null) Console.Out.WriteLine(sampler.Report());
    Console.Out.WriteLine("stopped");
    return 0;
});
return await root.Parse(args).InvokeAsync();
