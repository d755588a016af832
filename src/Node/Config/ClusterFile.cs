using System.Globalization;
using System.Text;
using System.Text.Json;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;

namespace Chainspace.Node.Config;

/// <summary>A cluster file that cannot be used: the message names the field and what is wrong with it.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Local tuning and protocol parameters every node of the cluster reads from the cluster file. Ticks are
/// the replica's logical time unit; <see cref="TickMilliseconds"/> says what one is worth on a node.
/// </summary>
public sealed record NodeSettings
{
    public int TickMilliseconds { get; init; } = 5;
    public int BatchRequestsMax { get; init; } = 1024;
    /// <summary>0: the primary cuts a batch as soon as its pipeline has room, so batches grow with load.</summary>
    public int BatchDelayTicks { get; init; }
    /// <summary>Batches in flight. Small on purpose: requests that arrive while the pipeline is full wait and
    /// go out together, so batches grow with load and the per-batch signatures, fsyncs and messages are
    /// shared by more requests. Measured on 2 cores, 2 × 4 replicas, 256 in flight: depth 16 gave batches of
    /// 8.8 requests and 1,224 tx/s; depth 4, 30.5 and 3,189 tx/s; depth 2, 55.4 and 3,692 tx/s. After
    /// hashing got cheaper, over 40 s with checkpoints: depth 2, 57.8 and 5,404 tx/s (p50 41 ms); depth 1,
    /// 101 and 6,268 tx/s (p50 37 ms). At 100 tx/s open loop the two are alike (p50 6.2 ms vs 6.9 ms). A
    /// cluster whose round trip is long next to its CPU time per batch (a WAN) wants more.</summary>
    public int PipelineDepth { get; init; } = 1;
    /// <summary>Checkpoints carry the whole ledger snapshot, so they are spaced out; C batches apart.</summary>
    public int CheckpointInterval { get; init; } = 1024;
    /// <summary>The snapshot is logged and sent by state transfer in pieces of at most this many bytes (one log
    /// record, one frame each), so the state may outgrow both a log segment and a frame.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;
    /// <summary>A piece and its message header must fit the node's 16 MiB frames.</summary>
    public const int SnapshotChunkBytesMax = 15 << 20;
    public int WatermarkWindow { get; init; } = 2048;
    public int RequestTimeoutTicks { get; init; } = 400;
    public int ViewChangeTimeoutTicks { get; init; } = 400;
    public int StatusIntervalTicks { get; init; } = 20;
    /// <summary>Initiator: how long a backup waits before proposing an Accept the primary has not.</summary>
    public int InitiatorBackupDelayTicks { get; init; } = 100;
    public int InitiatorRetryDelayTicks { get; init; } = 200;
    /// <summary>fsync the log before vouching (the protocol's assumption). false is for experiments only.</summary>
    public bool Fsync { get; init; } = true;
    /// <summary>"socket" (default) or "dotnetty".</summary>
    public string Transport { get; init; } = "socket";
    /// <summary>Peer frames at least this long are LZ4-compressed when that makes them smaller; 0 never compresses.
    /// Never by default: at saturation (2 × 4, 1-input, 256 in flight) LZ4 took 2.6 % of all CPU (compressing
    /// pre-prepares for each backup and decompressing them there), and what replicas send is mostly hashes and
    /// signatures, which do not compress; at 10k tx/s a shard's traffic is ~10 MB/s, far below any link it runs on.
    /// A bandwidth-bound deployment can turn it on.</summary>
    public int CompressBytesMin { get; init; }
}

/// <summary>Initial objects, created identically on every replica of the shard that manages each one.</summary>
public sealed record GenesisSpec
{
    public string Label { get; init; } = "genesis";
    /// <summary>Dummy tokens named (label, 0..DummyObjects-1): the benchmark's input pool.</summary>
    public int DummyObjects { get; init; }
    public IReadOnlyList<GenesisAccount> Accounts { get; init; } = [];
}

/// <summary>A CSCoin account at genesis: owner key and balance.</summary>
public sealed record GenesisAccount(Ed25519PublicKey Owner, long Balance);

/// <summary>
/// The cluster file (JSON): cluster id and epoch, shards with their replicas (address and public key),
/// node settings and genesis. Every node, client and the load generator read the same file; errors name
/// the offending field (<c>shards[1].replicas[2].port</c>), and unknown fields are errors, not ignored.
/// </summary>
public sealed class ClusterFile
{
    public const int FormatVersion = 1;

    public ClusterFile(ClusterConfig cluster, NodeSettings settings, GenesisSpec genesis)
    {
        Cluster = cluster;
        Settings = settings;
        Genesis = genesis;
    }

    public ClusterConfig Cluster { get; }
    public NodeSettings Settings { get; }
    public GenesisSpec Genesis { get; }

    public static ClusterFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cluster file {path}: cannot read: {e.Message}");
        }
        try
        {
            return Parse(text);
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"cluster file {path}: {e.Message}");
        }
    }

    public static ClusterFile Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigException($"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = new Obj(doc.RootElement, "");
            root.Only("format", "clusterId", "epoch", "shards", "settings", "genesis");
            int format = root.Int("format", 1, 1);
            if (format != FormatVersion) throw new ConfigException($"format: version {format} is not supported (this build reads {FormatVersion})");
            var clusterId = root.Hash("clusterId");
            uint epoch = (uint)root.Long("epoch", 0, uint.MaxValue);
            var shards = new List<ShardConfig>();
            var shardArray = root.Array("shards");
            if (shardArray.Count == 0) throw new ConfigException("shards: at least one shard is needed");
            for (int s = 0; s < shardArray.Count; s++)
            {
                var shard = shardArray[s];
                shard.Only("replicas");
                var replicaArray = shard.Array("replicas");
                var replicas = new List<ReplicaConfig>();
                for (int r = 0; r < replicaArray.Count; r++)
                {
                    var replica = replicaArray[r];
                    replica.Only("host", "port", "publicKey");
                    var id = new NodeId((ushort)s, (ushort)r);
                    string host = replica.String("host");
                    int port = replica.Int("port", 1, 65535);
                    var keyBytes = replica.Hex("publicKey", Ed25519PublicKey.Size);
                    if (!Ed25519PublicKey.TryCreate(keyBytes, out var key)) throw new ConfigException($"{replica.Path}.publicKey: not a valid Ed25519 public key");
                    replicas.Add(new ReplicaConfig(id, host, port, key!));
                }
                shards.Add(new ShardConfig((ushort)s, replicas));
            }
            ClusterConfig cluster;
            try
            {
                cluster = new ClusterConfig(clusterId, epoch, shards);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException(e.Message.Replace("cluster.", "", StringComparison.Ordinal));
            }
            var settings = root.Has("settings") ? ParseSettings(root.Object("settings")) : new NodeSettings();
            var genesis = root.Has("genesis") ? ParseGenesis(root.Object("genesis")) : new GenesisSpec();
            return new ClusterFile(cluster, settings, genesis);
        }
    }

    private static NodeSettings ParseSettings(Obj o)
    {
        var d = new NodeSettings();
        o.Only("tickMilliseconds", "batchRequestsMax", "batchDelayTicks", "pipelineDepth", "checkpointInterval", "snapshotChunkBytes", "watermarkWindow",
            "requestTimeoutTicks", "viewChangeTimeoutTicks", "statusIntervalTicks", "initiatorBackupDelayTicks", "initiatorRetryDelayTicks",
            "fsync", "transport", "compressBytesMin");
        var s = new NodeSettings
        {
            TickMilliseconds = o.Int("tickMilliseconds", 1, 10_000, d.TickMilliseconds),
            BatchRequestsMax = o.Int("batchRequestsMax", 1, 1 << 20, d.BatchRequestsMax),
            BatchDelayTicks = o.Int("batchDelayTicks", 0, 1_000_000, d.BatchDelayTicks),
            PipelineDepth = o.Int("pipelineDepth", 1, 1 << 16, d.PipelineDepth),
            CheckpointInterval = o.Int("checkpointInterval", 1, 1 << 20, d.CheckpointInterval),
            SnapshotChunkBytes = o.Int("snapshotChunkBytes", 256, NodeSettings.SnapshotChunkBytesMax, d.SnapshotChunkBytes),
            WatermarkWindow = o.Int("watermarkWindow", 2, 1 << 21, d.WatermarkWindow),
            RequestTimeoutTicks = o.Int("requestTimeoutTicks", 1, 1_000_000, d.RequestTimeoutTicks),
            ViewChangeTimeoutTicks = o.Int("viewChangeTimeoutTicks", 1, 1_000_000, d.ViewChangeTimeoutTicks),
            StatusIntervalTicks = o.Int("statusIntervalTicks", 1, 1_000_000, d.StatusIntervalTicks),
            InitiatorBackupDelayTicks = o.Int("initiatorBackupDelayTicks", 0, 1_000_000, d.InitiatorBackupDelayTicks),
            InitiatorRetryDelayTicks = o.Int("initiatorRetryDelayTicks", 1, 1_000_000, d.InitiatorRetryDelayTicks),
            Fsync = o.Bool("fsync", d.Fsync),
            Transport = o.String("transport", d.Transport),
            CompressBytesMin = o.Int("compressBytesMin", 0, int.MaxValue, d.CompressBytesMin),
        };
        if (s.CompressBytesMin is > 0 and < 64) throw new ConfigException($"settings.compressBytesMin: 0 (never) or at least 64, got {s.CompressBytesMin}");
        if (s.Transport is not ("socket" or "dotnetty")) throw new ConfigException($"settings.transport: '{s.Transport}' is not one of socket, dotnetty");
        if (s.WatermarkWindow < 2 * s.CheckpointInterval || s.WatermarkWindow % s.CheckpointInterval != 0)
            throw new ConfigException($"settings.watermarkWindow: must be a multiple of checkpointInterval and at least twice it ({s.WatermarkWindow} vs {s.CheckpointInterval})");
        if (s.PipelineDepth > s.WatermarkWindow) throw new ConfigException($"settings.pipelineDepth: must not exceed watermarkWindow ({s.PipelineDepth} > {s.WatermarkWindow})");
        return s;
    }

    private static GenesisSpec ParseGenesis(Obj o)
    {
        o.Only("label", "dummyObjects", "accounts");
        var accounts = new List<GenesisAccount>();
        if (o.Has("accounts"))
        {
            var array = o.Array("accounts");
            for (int i = 0; i < array.Count; i++)
            {
                var a = array[i];
                a.Only("owner", "balance");
                var bytes = a.Hex("owner", Ed25519PublicKey.Size);
                if (!Ed25519PublicKey.TryCreate(bytes, out var key)) throw new ConfigException($"{a.Path}.owner: not a valid Ed25519 public key");
                accounts.Add(new GenesisAccount(key!, a.Long("balance", 0, long.MaxValue)));
            }
        }
        string label = o.String("label", "genesis");
        if (label.Length == 0) throw new ConfigException("genesis.label: must not be empty");
        return new GenesisSpec { Label = label, DummyObjects = o.Int("dummyObjects", 0, 100_000_000, 0), Accounts = accounts };
    }

    public void Save(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, ToJson());
        File.Move(tmp, path, overwrite: true);
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format", FormatVersion);
            w.WriteString("clusterId", Cluster.ClusterId.ToString());
            w.WriteNumber("epoch", Cluster.Epoch);
            w.WriteStartArray("shards");
            foreach (var shard in Cluster.Shards)
            {
                w.WriteStartObject();
                w.WriteStartArray("replicas");
                foreach (var r in shard.Replicas)
                {
                    w.WriteStartObject();
                    w.WriteString("host", r.Host);
                    w.WriteNumber("port", r.Port);
                    w.WriteString("publicKey", r.PublicKey.ToString());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            var s = Settings;
            w.WriteStartObject("settings");
            w.WriteNumber("tickMilliseconds", s.TickMilliseconds);
            w.WriteNumber("batchRequestsMax", s.BatchRequestsMax);
            w.WriteNumber("batchDelayTicks", s.BatchDelayTicks);
            w.WriteNumber("pipelineDepth", s.PipelineDepth);
            w.WriteNumber("checkpointInterval", s.CheckpointInterval);
            w.WriteNumber("snapshotChunkBytes", s.SnapshotChunkBytes);
            w.WriteNumber("watermarkWindow", s.WatermarkWindow);
            w.WriteNumber("requestTimeoutTicks", s.RequestTimeoutTicks);
            w.WriteNumber("viewChangeTimeoutTicks", s.ViewChangeTimeoutTicks);
            w.WriteNumber("statusIntervalTicks", s.StatusIntervalTicks);
            w.WriteNumber("initiatorBackupDelayTicks", s.InitiatorBackupDelayTicks);
            w.WriteNumber("initiatorRetryDelayTicks", s.InitiatorRetryDelayTicks);
            w.WriteBoolean("fsync", s.Fsync);
            w.WriteString("transport", s.Transport);
            w.WriteNumber("compressBytesMin", s.CompressBytesMin);
            w.WriteEndObject();
            w.WriteStartObject("genesis");
            w.WriteString("label", Genesis.Label);
            w.WriteNumber("dummyObjects", Genesis.DummyObjects);
            w.WriteStartArray("accounts");
            foreach (var a in Genesis.Accounts)
            {
                w.WriteStartObject();
                w.WriteString("owner", a.Owner.ToString());
                w.WriteNumber("balance", a.Balance);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// A cluster of <paramref name="shards"/> × <paramref name="replicasPerShard"/> replicas on 127.0.0.1 from
    /// <paramref name="basePort"/>, with fresh random keys; returns the private keys by node too.
    /// </summary>
    public static (ClusterFile File, IReadOnlyDictionary<NodeId, Ed25519KeyPair> Keys) CreateLocal(
        int shards, int replicasPerShard, int basePort, NodeSettings settings, GenesisSpec genesis)
    {
        if (shards < 1) throw new ConfigException($"shards: need at least 1, got {shards}");
        if (replicasPerShard < 4 || replicasPerShard % 3 != 1) throw new ConfigException($"replicas per shard: must be 3f+1 with f >= 1 (4, 7, 10, ...), got {replicasPerShard}");
        if (basePort < 1 || basePort + shards * replicasPerShard > 65535) throw new ConfigException($"base port: {basePort} leaves no room for {shards * replicasPerShard} ports");
        var keys = new Dictionary<NodeId, Ed25519KeyPair>();
        var list = new List<ShardConfig>();
        int port = basePort;
        for (int s = 0; s < shards; s++)
        {
            var replicas = new List<ReplicaConfig>();
            for (int r = 0; r < replicasPerShard; r++)
            {
                var id = new NodeId((ushort)s, (ushort)r);
                var key = Ed25519KeyPair.Generate();
                keys[id] = key;
                replicas.Add(new ReplicaConfig(id, "127.0.0.1", port++, key.PublicKey));
            }
            list.Add(new ShardConfig((ushort)s, replicas));
        }
        Span<byte> random = stackalloc byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        var cluster = new ClusterConfig(new Hash256(random), 1, list);
        return (new ClusterFile(cluster, settings, genesis), keys);
    }

    /// <summary>A JSON object being read, with its path for error messages.</summary>
    private readonly struct Obj
    {
        private readonly JsonElement _e;

        public Obj(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object) throw new ConfigException($"{(path.Length == 0 ? "top level" : path)}: expected an object");
            _e = e;
            Path = path;
        }

        public string Path { get; }
        private string Field(string name) => Path.Length == 0 ? name : Path + "." + name;

        public void Only(params string[] names)
        {
            foreach (var p in _e.EnumerateObject())
            {
                if (System.Array.IndexOf(names, p.Name) < 0) throw new ConfigException($"{Field(p.Name)}: unknown field (known: {string.Join(", ", names)})");
            }
        }

        public bool Has(string name) => _e.TryGetProperty(name, out _);

        private JsonElement Get(string name) =>
            _e.TryGetProperty(name, out var v) ? v : throw new ConfigException($"{Field(name)}: missing");

        public Obj Object(string name) => new(Get(name), Field(name));

        public IReadOnlyList<Obj> Array(string name)
        {
            var v = Get(name);
            if (v.ValueKind != JsonValueKind.Array) throw new ConfigException($"{Field(name)}: expected an array");
            var list = new List<Obj>();
            int i = 0;
            foreach (var item in v.EnumerateArray()) list.Add(new Obj(item, $"{Field(name)}[{i++}]"));
            return list;
        }

        public string String(string name, string? fallback = null)
        {
            if (!_e.TryGetProperty(name, out var v))
            {
                return fallback ?? throw new ConfigException($"{Field(name)}: missing");
            }
            if (v.ValueKind != JsonValueKind.String) throw new ConfigException($"{Field(name)}: expected a string");
            return v.GetString()!;
        }

        public long Long(string name, long min, long max, long? fallback = null)
        {
            if (!_e.TryGetProperty(name, out var v))
            {
                return fallback ?? throw new ConfigException($"{Field(name)}: missing");
            }
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x)) throw new ConfigException($"{Field(name)}: expected an integer");
            if (x < min || x > max) throw new ConfigException($"{Field(name)}: {x.ToString(CultureInfo.InvariantCulture)} is outside {min}..{max}");
            return x;
        }

        public int Int(string name, int min, int max, int? fallback = null) => (int)Long(name, min, max, fallback);

        public bool Bool(string name, bool fallback)
        {
            if (!_e.TryGetProperty(name, out var v)) return fallback;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ConfigException($"{Field(name)}: expected true or false"),
            };
        }

        public byte[] Hex(string name, int length)
        {
            string s = String(name);
            byte[] bytes;
            try
            {
                bytes = Convert.FromHexString(s);
            }
            catch (FormatException)
            {
                throw new ConfigException($"{Field(name)}: not hexadecimal");
            }
            if (bytes.Length != length) throw new ConfigException($"{Field(name)}: expected {length} bytes, got {bytes.Length}");
            return bytes;
        }

        public Hash256 Hash(string name) => new(Hex(name, Hash256.Size));
    }
}
