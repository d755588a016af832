using System.Net;
using Chainspace.Core.Crypto;

namespace Chainspace.Core.Cluster;

/// <summary>One replica as the configuration lists it: identity, address and public key.</summary>
public sealed record ReplicaConfig(NodeId Id, string Host, int Port, Ed25519PublicKey PublicKey)
{
    public IPEndPoint EndPoint => new(IPAddress.Parse(Host), Port);
}

/// <summary>One shard: n = 3f+1 replicas. Replica i has index i.</summary>
public sealed class ShardConfig
{
    public ShardConfig(ushort shard, IReadOnlyList<ReplicaConfig> replicas)
    {
        Shard = shard;
        Replicas = replicas ?? throw new ArgumentNullException(nameof(replicas));
    }

    public ushort Shard { get; }
    public IReadOnlyList<ReplicaConfig> Replicas { get; }
    public int N => Replicas.Count;
    /// <summary>Faults tolerated: n = 3f + 1.</summary>
    public int F => (N - 1) / 3;
    /// <summary>A PBFT quorum: 2f + 1.</summary>
    public int Quorum => 2 * F + 1;
    /// <summary>Enough to include one honest replica: f + 1.</summary>
    public int WeakQuorum => F + 1;
}

/// <summary>
/// The cluster as every node and client knows it: an id and epoch that every signed statement is bound
/// to, and the shards with their replicas. Validated once at construction, naming the bad field.
/// </summary>
public sealed class ClusterConfig
{
    public ClusterConfig(Hash256 clusterId, uint epoch, IReadOnlyList<ShardConfig> shards)
    {
        ClusterId = clusterId;
        Epoch = epoch;
        Shards = shards ?? throw new ArgumentNullException(nameof(shards));
        Validate();
        ShardMap = new ShardMap((uint)shards.Count);
    }

    public Hash256 ClusterId { get; }
    public uint Epoch { get; }
    public IReadOnlyList<ShardConfig> Shards { get; }
    public ShardMap ShardMap { get; }

    public ShardConfig Shard(int shard) => Shards[shard];
    public ReplicaConfig Replica(NodeId id) => Shards[id.Shard].Replicas[id.Replica];

    public bool TryGetReplica(NodeId id, out ReplicaConfig? replica)
    {
        replica = null;
        if (id.Shard >= Shards.Count || id.Replica >= Shards[id.Shard].N) return false;
        replica = Shards[id.Shard].Replicas[id.Replica];
        return true;
    }

    public IEnumerable<ReplicaConfig> AllReplicas => Shards.SelectMany(s => s.Replicas);

    private void Validate()
    {
        if (Shards.Count is 0 or > ushort.MaxValue) throw new ArgumentException($"cluster.shards: need 1..{ushort.MaxValue} shards, got {Shards.Count}");
        var keys = new HashSet<string>();
        var addresses = new HashSet<string>();
        for (int s = 0; s < Shards.Count; s++)
        {
            var shard = Shards[s];
            if (shard.Shard != s) throw new ArgumentException($"cluster.shards[{s}].shard: expected {s}, got {shard.Shard}");
            // f = 0 is no fault tolerance at all, and PBFT's quorums (2f+1 of 3f+1) assume f >= 1.
            if (shard.N < 4 || shard.N % 3 != 1) throw new ArgumentException($"cluster.shards[{s}].replicas: n must be 3f+1 with f >= 1 (4, 7, 10, ...), got {shard.N}");
            for (int r = 0; r < shard.N; r++)
            {
                var replica = shard.Replicas[r];
                string field = $"cluster.shards[{s}].replicas[{r}]";
                if (replica.Id != new NodeId((ushort)s, (ushort)r)) throw new ArgumentException($"{field}.id: expected s{s}r{r}, got {replica.Id}");
                if (!IPAddress.TryParse(replica.Host, out _)) throw new ArgumentException($"{field}.host: '{replica.Host}' is not an IP address");
                if (replica.Port is <= 0 or > 65535) throw new ArgumentException($"{field}.port: {replica.Port} is not a TCP port");
                if (!keys.Add(replica.PublicKey.ToString())) throw new ArgumentException($"{field}.publicKey: key used by another replica");
                if (!addresses.Add($"{replica.Host}:{replica.Port}")) throw new ArgumentException($"{field}: address {replica.Host}:{replica.Port} used twice");
            }
        }
    }

    /// <summary>
    /// A cluster on 127.0.0.1 with deterministic keys derived from <paramref name="seed"/>, for tests,
    /// the simulator and local experiments. Returns the private keys by node id as well.
    /// </summary>
    public static (ClusterConfig Config, IReadOnlyDictionary<NodeId, Ed25519KeyPair> Keys) CreateLocal(
        int shards, int replicasPerShard, int basePort = 17000, string seed = "local")
    {
        var keys = new Dictionary<NodeId, Ed25519KeyPair>();
        var shardConfigs = new List<ShardConfig>();
        int port = basePort;
        for (int s = 0; s < shards; s++)
        {
            var replicas = new List<ReplicaConfig>();
            for (int r = 0; r < replicasPerShard; r++)
            {
                var id = new NodeId((ushort)s, (ushort)r);
                var key = Ed25519KeyPair.FromPrivateKey(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"{seed}/{id}")).ToArray());
                keys[id] = key;
                replicas.Add(new ReplicaConfig(id, "127.0.0.1", port++, key.PublicKey));
            }
            shardConfigs.Add(new ShardConfig((ushort)s, replicas));
        }
        var clusterId = Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"cluster/{seed}"));
        return (new ClusterConfig(clusterId, 1, shardConfigs), keys);
    }
}
