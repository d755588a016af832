using System.Net;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;

namespace Chainspace.Transport.Tests;

/// <summary>A 1-shard, 4-replica cluster with deterministic keys, shared by the transport tests.</summary>
public static class TestCluster
{
    private static readonly Lazy<(ClusterConfig Config, IReadOnlyDictionary<NodeId, Ed25519KeyPair> Keys)> Local =
        new(() => ClusterConfig.CreateLocal(1, 4, basePort: 30000, seed: "transport-tests"));

    public static ClusterConfig Config => Local.Value.Config;
    public static NodeId Node(int replica) => new(0, (ushort)replica);
    public static LocalIdentity Replica(int replica) => LocalIdentity.Replica(Config, Node(replica), Local.Value.Keys[Node(replica)]);

    public static readonly IPEndPoint AnyPort = new(IPAddress.Loopback, 0);

    public const byte ClientType = 0x10;
    public const byte ReplicaType = 0x20;

    public static TransportOptions Options(LogSink log, Func<TransportOptions, TransportOptions>? tweak = null)
    {
        var options = new TransportOptions
        {
            FrameBytesMax = 256 * 1024,
            CompressBytesMin = 4096,
            SendQueueBytesMax = 1 << 20,
            ReceiveBufferBytes = 16 * 1024,
            HandshakeTimeout = TimeSpan.FromSeconds(3),
            ReconnectDelayMin = TimeSpan.FromMilliseconds(10),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(200),
            PoolBlocksPreallocated = 2,
            PoolBlocksRetainedMax = 64,
            ClientFrameTypes = FrameTypeSet.Of(ClientType),
            Logger = log.Log,
        };
        return tweak is null ? options : tweak(options);
    }

    public static byte[] Payload(int length, int seed, bool compressible = false)
    {
        var bytes = new byte[length];
        if (compressible)
        {
            for (int i = 0; i < length; i++) bytes[i] = (byte)(i / 64 + seed);
        }
        else
        {
            new Random(seed).NextBytes(bytes);
        }
        return bytes;
    }
}
