using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Node.Config;
using Chainspace.Node.Protocol;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;

namespace Chainspace.Node.Tests;

public sealed class ConfigTests
{
    private static (ClusterFile File, IReadOnlyDictionary<NodeId, Ed25519KeyPair> Keys) Local() =>
        ClusterFile.CreateLocal(2, 4, 17000, new NodeSettings { CheckpointInterval = 8, WatermarkWindow = 16 },
            new GenesisSpec { Label = "t", DummyObjects = 10, Accounts = [new GenesisAccount(Ed25519KeyPair.Generate().PublicKey, 5)] });

    [Fact]
    public void ClusterFile_RoundTripsThroughJson()
    {
        var (file, _) = Local();
        var again = ClusterFile.Parse(file.ToJson());
        Assert.Equal(file.Cluster.ClusterId, again.Cluster.ClusterId);
        Assert.Equal(file.Cluster.Epoch, again.Cluster.Epoch);
        Assert.Equal(8, again.Settings.CheckpointInterval);
        Assert.Equal(file.Genesis, again.Genesis with { Accounts = file.Genesis.Accounts });
        Assert.Equal(file.Genesis.Accounts.Single(), again.Genesis.Accounts.Single());
        foreach (var r in file.Cluster.AllReplicas)
        {
            var other = again.Cluster.Replica(r.Id);
            Assert.Equal(r.Port, other.Port);
            Assert.Equal(r.PublicKey, other.PublicKey);
        }
        Assert.Equal(file.ToJson(), again.ToJson());
    }

    [Theory]
    [InlineData("\"port\": 17000", "\"port\": 70000", "shards[0].replicas[0].port")]
    [InlineData("\"port\": 17000", "\"port\": \"x\"", "shards[0].replicas[0].port")]
    [InlineData("\"host\": \"127.0.0.1\"", "\"host\": \"localhost\"", "shards[0].replicas[0].host")]
    [InlineData("\"epoch\": 1", "\"epoch\": 1, \"colour\": 2", "colour: unknown field")]
    [InlineData("\"checkpointInterval\": 8", "\"checkpointInterval\": 5", "settings.watermarkWindow")]
    [InlineData("\"transport\": \"socket\"", "\"transport\": \"carrier-pigeon\"", "settings.transport")]
    [InlineData("\"snapshotChunkBytes\": 1048576", "\"snapshotChunkBytes\": 100", "settings.snapshotChunkBytes")]
    [InlineData("\"snapshotChunkBytes\": 1048576", "\"snapshotChunkBytes\": 16777216", "settings.snapshotChunkBytes")]
    [InlineData("\"dummyObjects\": 10", "\"dummyObjects\": -1", "genesis.dummyObjects")]
    [InlineData("\"format\": 1", "\"format\": 2", "format")]
    [InlineData("\"compressBytesMin\": 0", "\"compressBytesMin\": 10", "settings.compressBytesMin")]
    [InlineData("\"compressBytesMin\": 0", "\"compressBytesMin\": -1", "compressBytesMin")]
    public void ClusterFile_BadField_IsNamedInTheError(string from, string to, string expected)
    {
        var (file, _) = Local();
        string json = file.ToJson();
        Assert.Contains(from, json);
        var e = Assert.Throws<ConfigException>(() => ClusterFile.Parse(ReplaceFirst(json, from, to)));
        Assert.Contains(expected, e.Message);
    }

    // PBFT needs f >= 1: a shard of 1 (or 2, 3, 5) replicas would stop every node at start-up with an exception
    // from deep inside the replica, so the cluster file refuses it and names the field.
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ClusterFile_ShardWithoutFaultTolerance_IsRefused(int keep)
    {
        var (file, _) = Local();
        var root = System.Text.Json.Nodes.JsonNode.Parse(file.ToJson())!;
        var replicas = root["shards"]![0]!["replicas"]!.AsArray();
        while (replicas.Count > keep) replicas.RemoveAt(replicas.Count - 1);
        var e = Assert.Throws<ConfigException>(() => ClusterFile.Parse(root.ToJsonString()));
        Assert.Contains("shards[0].replicas", e.Message);
        Assert.Contains("f >= 1", e.Message);
        Assert.Contains("f >= 1", Assert.Throws<ConfigException>(() => ClusterFile.CreateLocal(1, 1, 17000, new NodeSettings(), new GenesisSpec { Label = "t" })).Message);
    }

    [Fact]
    public void ClusterFile_BadKeyAndBrokenJson_AreClearErrors()
    {
        var (file, _) = Local();
        string json = file.ToJson();
        string key = file.Cluster.Replica(new NodeId(1, 2)).PublicKey.ToString();
        Assert.Contains("shards[1].replicas[2].publicKey", Assert.Throws<ConfigException>(() => ClusterFile.Parse(json.Replace(key, key[..10]))).Message);
        Assert.Contains("not valid JSON", Assert.Throws<ConfigException>(() => ClusterFile.Parse(json[..(json.Length / 2)])).Message);
        Assert.Contains("replicas", Assert.Throws<ConfigException>(() => ClusterFile.Parse(json.Replace("\"replicas\"", "\"replica\""))).Message);
    }

    [Fact]
    public void KeyFile_RoundTrips_AndRefusesAKeyThatIsNotTheNodes()
    {
        var (file, keys) = Local();
        var dir = Directory.CreateTempSubdirectory("chainspace-keys");
        try
        {
            var id = new NodeId(1, 3);
            string path = Path.Combine(dir.FullName, "k.key");
            NodeKeyFile.Save(path, id, keys[id]);
            var (node, key) = NodeKeyFile.Load(path, file.Cluster);
            Assert.Equal(id, node);
            Assert.Equal(keys[id].PublicKey, key.PublicKey);

            NodeKeyFile.Save(path, id, keys[new NodeId(0, 0)]);   // someone else's key under this name
            Assert.Contains("does not match", Assert.Throws<ConfigException>(() => NodeKeyFile.Load(path, file.Cluster)).Message);
            File.WriteAllText(path, "{\"node\":\"s9r9\",\"privateKey\":\"00\"}");
            Assert.Contains("not in the cluster file", Assert.Throws<ConfigException>(() => NodeKeyFile.Load(path, file.Cluster)).Message);
            File.WriteAllText(path, "not json");
            Assert.Throws<ConfigException>(() => NodeKeyFile.Load(path, file.Cluster));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ClientMessages_RoundTrip_AndRejectWrongLengths()
    {
        var stats = new NodeStats(7, true, false, 1234, 1200, Hashing.Sha256("x"u8), 10, 2, 33, 44, 1, 99, 123456, 789, 3, 4);
        Span<byte> buffer = stackalloc byte[ClientMessages.QueryResultSizeMax];
        int length = ClientMessages.WriteStatsResult(buffer, 42, stats);
        Assert.True(ClientMessages.TryReadQueryResult(buffer[..length], out ulong id, out var kind, out bool ok, out var result));
        Assert.Equal((42UL, QueryKind.Stats, true), (id, kind, ok));
        Assert.True(NodeStats.TryRead(result, out var back));
        Assert.Equal(stats, back);
        Assert.False(NodeStats.TryRead(result[..^1], out _));

        var txId = Hashing.Sha256("t"u8);
        Span<byte> d = stackalloc byte[ClientMessages.DecisionSize];
        ClientMessages.WriteDecision(d, txId, Decision.Abort);
        Assert.True(ClientMessages.TryReadDecision(d, out var t, out var decision));
        Assert.Equal((txId, Decision.Abort), (t, decision));
        d[^1] = 9;
        Assert.False(ClientMessages.TryReadDecision(d, out _, out _));

        Span<byte> q = stackalloc byte[ClientMessages.QuerySizeMax];
        int ql = ClientMessages.WriteQuery(q, 5, QueryKind.ObjectState, txId);
        Assert.True(ClientMessages.TryReadQuery(q[..ql], out ulong qid, out var qk, out var oid));
        Assert.Equal((5UL, QueryKind.ObjectState, txId), (qid, qk, oid));
        Assert.False(ClientMessages.TryReadQuery(q[..(ql - 1)], out _, out _, out _));
        q[8] = 77;
        Assert.False(ClientMessages.TryReadQuery(q[..ql], out _, out _, out _));

        int sl = ClientMessages.WriteObjectStateResult(buffer, 6, ObjectState.Locked);
        Assert.True(ClientMessages.TryReadQueryResult(buffer[..sl], out _, out var sk, out bool sok, out var sr));
        Assert.Equal((QueryKind.ObjectState, true, (byte)ObjectState.Locked), (sk, sok, sr[0]));
    }

    [Fact]
    public void Genesis_PartitionsObjectsByShard_AndEveryObjectLandsOnce()
    {
        var (file, _) = Local();
        var all = GenesisObjects.All(file.Genesis).Select(o => o.Id).ToArray();
        Assert.Equal(11, all.Length);
        var byShard = Enumerable.Range(0, 2).SelectMany(s => GenesisObjects.IdsForShard(file, s)).ToArray();
        Assert.Equal(all.OrderBy(x => x), byShard.OrderBy(x => x));
    }

    private static string ReplaceFirst(string s, string from, string to)
    {
        int i = s.IndexOf(from, StringComparison.Ordinal);
        return s[..i] + to + s[(i + from.Length)..];
    }
}
