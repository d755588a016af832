using System.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Chainspace.Core.Cluster;
using Chainspace.Transport;

namespace Chainspace.Bench.Transport;

/// <summary>
/// Both transports in one run over 127.0.0.1: one operation sends a batch of about 8 MiB of frames
/// (at least 64) round-robin over the connections from one thread, retrying on backpressure, and ends
/// when the receiving handler has counted them all. Frames/s, MB/s and B/frame columns divide by the
/// batch; B/frame counts every thread of the process (send loops, receive loops, event loops).
/// Payloads are random (LZ4 is tried on 64 KiB frames, as the default options say, and sent raw).
/// </summary>
[Config(typeof(Config))]
// Five warm-up iterations: with two, 64 KiB frames on four connections still showed the pool and the thread pool
// reaching their high-water marks (0.01-0.3 B/frame on average in the measured iterations; 0.00 with eight).
[WarmupCount(5)]
[IterationCount(6)]
[IterationTime(300)]   // bounded, so the 12-case matrix finishes in minutes (BenchmarkDotNet's defaults ran past 15)
public class TransportThroughputBenchmarks
{
    private const int BatchBytes = 8 << 20;
    private ITransport? _server;
    private ITransport? _client;
    private Connection[] _connections = [];
    private CountingHandler _received = new();
    private byte[] _payload = [];

    [ParamsSource(nameof(Kinds))]
    public TransportKind Kind { get; set; }

    [ParamsSource(nameof(FrameSizes))]
    public int FrameBytes { get; set; }

    [ParamsSource(nameof(ConnectionCounts))]
    public int Connections { get; set; }

    /// <summary>Both transports; CHAINSPACE_BENCH_TRANSPORTS=Socket narrows a run.</summary>
    public static IEnumerable<TransportKind> Kinds =>
        BenchEnvironment.List("CHAINSPACE_BENCH_TRANSPORTS", [TransportKind.Socket, TransportKind.DotNetty], v => Enum.Parse<TransportKind>(v, ignoreCase: true));

    /// <summary>128 B, 1 KiB, 64 KiB; CHAINSPACE_BENCH_FRAME_SIZES=128 narrows a run.</summary>
    public static IEnumerable<int> FrameSizes => BenchEnvironment.List("CHAINSPACE_BENCH_FRAME_SIZES", [128, 1024, 65536], BenchEnvironment.ParseInt);

    /// <summary>One and four connections; CHAINSPACE_BENCH_CONNECTIONS=1 narrows a run.</summary>
    public static IEnumerable<int> ConnectionCounts => BenchEnvironment.List("CHAINSPACE_BENCH_CONNECTIONS", [1, 4], BenchEnvironment.ParseInt);

    public static int FramesPerBatchFor(int frameBytes) => Math.Max(64, BatchBytes / frameBytes);

    [GlobalSetup]
    public void Setup()
    {
        var (cluster, keys) = ClusterConfig.CreateLocal(1, 4, seed: "bench-transport");
        var options = new TransportOptions();
        _received = new CountingHandler();
        _server = TransportFactory.Create(Kind, cluster, LocalIdentity.Replica(cluster, new NodeId(0, 0), keys[new NodeId(0, 0)]), _received, options);
        _client = TransportFactory.Create(Kind, cluster, LocalIdentity.Replica(cluster, new NodeId(0, 1), keys[new NodeId(0, 1)]), new CountingHandler(), options);
        var endPoint = _server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0)).AsTask().GetAwaiter().GetResult().EndPoint;
        _connections = new Connection[Connections];
        for (int i = 0; i < Connections; i++) _connections[i] = _client.ConnectAsync(endPoint, new NodeId(0, 0)).AsTask().GetAwaiter().GetResult();
        _payload = new byte[FrameBytes];
        new Random(42).NextBytes(_payload);
    }

    [Benchmark]
    public long SendBatch()
    {
        int frames = FramesPerBatchFor(FrameBytes);
        long target = _received.Received + frames;
        var connections = _connections;
        var payload = _payload;
        var spin = new SpinWait();
        for (int i = 0; i < frames; i++)
        {
            var connection = connections[i % connections.Length];
            SendStatus status;
            while ((status = connection.TrySend(1, payload)) != SendStatus.Queued)
            {
                if (status != SendStatus.QueueFull) throw new InvalidOperationException($"send failed: {status} ({connection.CloseReason})");
                spin.SpinOnce();
            }
        }
        while (_received.Received < target) spin.SpinOnce();
        return _received.Received;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        // A leak here is a transport bug; make the run fail loudly rather than report numbers.
        if (_client.Pool.Outstanding != 0 || _server.Pool.Outstanding != 0)
            throw new InvalidOperationException($"pooled buffers leaked: client {_client.Pool.Outstanding}, server {_server.Pool.Outstanding}");
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(ThroughputColumn.FramesPerSecond, ThroughputColumn.MegabytesPerSecond, ThroughputColumn.AllocatedPerFrame);
        }
    }
}
