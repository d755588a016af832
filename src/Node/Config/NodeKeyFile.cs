using System.Text.Json;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;

namespace Chainspace.Node.Config;

/// <summary>
/// A replica's private key file (JSON: <c>{"node": "s0r1", "privateKey": "hex"}</c>), readable by its owner
/// only. Loading checks the key against the public key the cluster file lists for that node.
/// </summary>
public static class NodeKeyFile
{
    public static void Save(string path, NodeId node, Ed25519KeyPair key)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["node"] = node.ToString(),
            ["privateKey"] = Convert.ToHexStringLower(key.ExportPrivateKey()),
        });
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, json);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }

    public static (NodeId Node, Ed25519KeyPair Key) Load(string path, ClusterConfig cluster)
    {
        Dictionary<string, string>? fields;
        try
        {
            fields = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ConfigException($"key file {path}: {e.Message}");
        }
        if (fields is null) throw new ConfigException($"key file {path}: empty");
        foreach (var name in fields.Keys)
        {
            if (name is not ("node" or "privateKey")) throw new ConfigException($"key file {path}: {name}: unknown field");
        }
        if (!fields.TryGetValue("node", out var nodeText) || !TryParseNodeId(nodeText, out var node))
            throw new ConfigException($"key file {path}: node: missing or not of the form s<shard>r<replica>");
        if (!cluster.TryGetReplica(node, out var replica)) throw new ConfigException($"key file {path}: node: {node} is not in the cluster file");
        if (!fields.TryGetValue("privateKey", out var hex)) throw new ConfigException($"key file {path}: privateKey: missing");
        byte[] seed;
        try
        {
            seed = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new ConfigException($"key file {path}: privateKey: not hexadecimal");
        }
        if (seed.Length != Ed25519KeyPair.PrivateKeySize) throw new ConfigException($"key file {path}: privateKey: expected {Ed25519KeyPair.PrivateKeySize} bytes, got {seed.Length}");
        var key = Ed25519KeyPair.FromPrivateKey(seed);
        if (!key.PublicKey.Equals(replica!.PublicKey))
        {
            key.Dispose();
            throw new ConfigException($"key file {path}: privateKey: does not match the public key the cluster file lists for {node}");
        }
        return (node, key);
    }

    public static bool TryParseNodeId(string text, out NodeId node)
    {
        node = default;
        if (text.Length < 4 || text[0] != 's') return false;
        int r = text.IndexOf('r', StringComparison.Ordinal);
        if (r < 2) return false;
        if (!ushort.TryParse(text.AsSpan(1, r - 1), System.Globalization.NumberStyles.None, null, out var shard)) return false;
        if (!ushort.TryParse(text.AsSpan(r + 1), System.Globalization.NumberStyles.None, null, out var replica)) return false;
        node = new NodeId(shard, replica);
        return true;
    }
}
