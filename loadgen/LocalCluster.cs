using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Chainspace.Core.Cluster;
using Chainspace.Node.Config;
using Chainspace.Transport.Sockets;

namespace Chainspace.LoadGen;

/// <summary>
/// K shards × n replicas on 127.0.0.1, each replica its own process (the paper's one replica per VM):
/// writes keys and a cluster file into a fresh directory, starts the nodes, and stops them (SIGTERM, then
/// kill after a grace period) and removes the directory on dispose, also after Ctrl-C.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly Dictionary<NodeId, Process> _processes = new();
    private readonly bool _keep;
    private readonly Action<string> _log;

    private LocalCluster(string directory, ClusterFile file, bool keep, Action<string> log)
    {
        Directory = directory;
        File = file;
        _keep = keep;
        _log = log;
    }

    public string Directory { get; }
    public ClusterFile File { get; }
    public string ClusterPath => Path.Combine(Directory, "cluster.json");
    public string KeyPath(NodeId id) => Path.Combine(Directory, $"{id}.key");
    public string DataPath(NodeId id) => Path.Combine(Directory, "data", id.ToString());
    public string LogPath(NodeId id) => Path.Combine(Directory, $"{id}.log");

    /// <summary>Creates the directory, keys and cluster file (ports picked free from the OS when <paramref name="basePort"/> is 0).</summary>
    public static LocalCluster Create(int shards, int replicas, int basePort, NodeSettings settings, GenesisSpec genesis, bool keep, Action<string> log, string? directory = null)
    {
        if (basePort == 0) basePort = FindFreePortRange(shards * replicas);
        var (file, keys) = ClusterFile.CreateLocal(shards, replicas, basePort, settings, genesis);
        directory ??= Path.Combine(Path.GetTempPath(), $"chainspace-{Environment.ProcessId}-{DateTime.UtcNow:HHmmss}");
        System.IO.Directory.CreateDirectory(directory);
        var cluster = new LocalCluster(directory, file, keep, log);
        file.Save(cluster.ClusterPath);
        foreach (var (id, key) in keys)
        {
            NodeKeyFile.Save(cluster.KeyPath(id), id, key);
            key.Dispose();
        }
        return cluster;
    }

    /// <summary>Ports for every replica: a range the OS reports free right now (best effort).</summary>
    private static int FindFreePortRange(int count)
    {
        // Below the kernel's ephemeral range: a port picked there can be taken by an outgoing connection
        // (of this very cluster) between this check and the node's bind.
        int ceiling = 32768;
        try
        {
            var range = System.IO.File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (range.Length >= 1 && int.TryParse(range[0], out int low) && low > 2048) ceiling = low;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        int floor = Math.Min(10000, ceiling / 2);
        if (ceiling - floor < count + 1) throw new InvalidOperationException($"no room for {count} ports below the ephemeral range ({ceiling})");
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int start = floor + Random.Shared.Next(0, ceiling - floor - count);
            bool free = true;
            for (int p = start; p < start + count && free; p++)
            {
                try
                {
                    using var l = new TcpListener(IPAddress.Loopback, p);
                    l.Start();
                    l.Stop();
                }
                catch (SocketException)
                {
                    free = false;
                }
            }
            if (free) return start;
        }
        throw new InvalidOperationException($"no {count} consecutive free ports found on 127.0.0.1");
    }

    /// <summary>The node executable next to this assembly (the load generator references the node project).</summary>
    public static (string FileName, string PrefixArguments) NodeCommand()
    {
        string dir = AppContext.BaseDirectory;
        string apphost = Path.Combine(dir, OperatingSystem.IsWindows() ? "Chainspace.Node.exe" : "Chainspace.Node");
        if (System.IO.File.Exists(apphost)) return (apphost, "");
        string dll = Path.Combine(dir, "Chainspace.Node.dll");
        if (!System.IO.File.Exists(dll)) throw new FileNotFoundException($"Chainspace.Node.dll not found next to the load generator in {dir}");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && System.IO.File.Exists(h) ? h : "dotnet";
        return (host, $"exec \"{dll}\"");
    }

    public void StartAll()
    {
        foreach (var r in File.Cluster.AllReplicas) Start(r.Id);
    }

    public void Start(NodeId id)
    {
        if (_processes.TryGetValue(id, out var old) && !old.HasExited) throw new InvalidOperationException($"{id} is already running");
        var (fileName, prefix) = NodeCommand();
        var info = new ProcessStartInfo(fileName, $"{prefix} --cluster \"{ClusterPath}\" --key \"{KeyPath(id)}\" --data \"{DataPath(id)}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Many replicas share two cores: workstation, non-concurrent GC, one heap each (DESIGN.md).
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_gcConcurrent"] = "0";
        // Dynamic PGO's instrumented tier is still running 5 s in, when the default measurement starts: with it on,
        // 5.4k-6.3k tx/s against 6.7k-7.1k off. Given a 10 s warm-up it pays (7.0k-7.2k against 6.0k-6.4k).
        info.Environment["DOTNET_TieredPGO"] = "0";
        // One epoll thread per node rather than the runtime's two on 2 cores: with inline completions a node's
        // frames are handled on the thread that read them, one runner at a time, so a second thread mostly adds
        // wake-ups and context switches between processes that already share the cores. Eight alternating pairs of
        // default runs: 9,388 against 8,798 tx/s on average, 180 against 197 µs of CPU per transaction (the runs
        // varied by ±15 % from minute to minute, so the pairs matter, not one run). A value the user set is kept.
        if (!info.Environment.ContainsKey(SocketCompletions.EngineThreadsVariable)) info.Environment[SocketCompletions.EngineThreadsVariable] = "1";
        var process = new Process { StartInfo = info };
        var logFile = new StreamWriter(LogPath(id), append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => { lock (logFile) logFile.Flush(); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[id] = process;
    }

    public bool IsRunning(NodeId id) => _processes.TryGetValue(id, out var p) && !p.HasExited;

    /// <summary>Nodes that were started and have exited, with the end of their output (for error messages).</summary>
    public string DescribeExited()
    {
        var lines = new List<string>();
        foreach (var (id, p) in _processes)
        {
            if (!p.HasExited) continue;
            string tail = "";
            try
            {
                tail = string.Join(" | ", System.IO.File.ReadLines(LogPath(id)).TakeLast(3));
            }
            catch (IOException)
            {
            }
            lines.Add($"{id} exited with {p.ExitCode}: {tail}");
        }
        return lines.Count == 0 ? "no node exited" : string.Join("; ", lines);
    }

    /// <summary>kill -9: the replica gets no chance to flush or say goodbye.</summary>
    public void Kill(NodeId id)
    {
        if (!_processes.TryGetValue(id, out var p) || p.HasExited) return;
        p.Kill();
        p.WaitForExit(10_000);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>SIGTERM, then kill -9 after <paramref name="grace"/>.</summary>
    public async Task StopAsync(NodeId id, TimeSpan grace)
    {
        if (!_processes.TryGetValue(id, out var p) || p.HasExited) return;
        if (OperatingSystem.IsWindows() || SysKill(p.Id, 15) != 0)
        {
            p.Kill();
        }
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _log($"{id} did not stop within {grace.TotalSeconds:F0} s of SIGTERM: killing it");
            p.Kill();
            p.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        var stops = new List<Task>();
        foreach (var id in _processes.Keys) stops.Add(StopAsync(id, TimeSpan.FromSeconds(5)));
        await Task.WhenAll(stops).ConfigureAwait(false);
        foreach (var p in _processes.Values) p.Dispose();
        _processes.Clear();
        if (_keep)
        {
            _log($"cluster files and node logs kept in {Directory}");
            return;
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException e)
        {
            _log($"could not remove {Directory}: {e.Message}");
        }
    }
}
