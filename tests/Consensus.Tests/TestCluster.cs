using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Cluster;

namespace Chainspace.Consensus.Tests;

/// <summary>A deterministic app for unit tests: a hash chain over executed requests; replies with the count.</summary>
internal sealed class ChainApp : IReplicatedStateMachine
{
    public Hash256 Chain;
    public ulong Count;
    /// <summary>Filler bytes after the 40-byte state (derived from it), so that a snapshot spans several pieces.</summary>
    public int Padding;
    public readonly List<(ulong Sequence, ulong Client, ulong Number)> Executed = new();

    public void BeginBatch(ulong sequence) { }

    public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
    {
        Span<byte> pre = stackalloc byte[48];
        Chain.WriteTo(pre);
        BinaryPrimitives.WriteUInt64LittleEndian(pre[32..], client);
        BinaryPrimitives.WriteUInt64LittleEndian(pre[40..], requestNumber);
        Chain = Hashing.Sha256(pre);
        Count++;
        Executed.Add((sequence, client, requestNumber));
        BinaryPrimitives.WriteUInt64LittleEndian(reply.GetSpan(8), Count);
        reply.Advance(8);
    }

    public void EndBatch(ulong sequence) { }

    public Hash256 StateDigest(ulong sequence)
    {
        Span<byte> pre = stackalloc byte[40];
        Chain.WriteTo(pre);
        BinaryPrimitives.WriteUInt64LittleEndian(pre[32..], Count);
        return Hashing.Sha256(pre);
    }

    public void WriteSnapshot(IBufferWriter<byte> destination)
    {
        var span = destination.GetSpan(40 + Padding);
        Chain.WriteTo(span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], Count);
        for (int i = 0; i < Padding; i++) span[40 + i] = Filler(span, i);
        destination.Advance(40 + Padding);
    }

    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence)
    {
        if (snapshot.Length != 40 + Padding) return;
        for (int i = 0; i < Padding; i++)
        {
            if (snapshot[40 + i] != Filler(snapshot, i)) return;
        }
        Chain = Hash256.Read(snapshot);
        Count = BinaryPrimitives.ReadUInt64LittleEndian(snapshot[32..]);
    }

    private static byte Filler(ReadOnlySpan<byte> state, int i) => (byte)(state[i % 32] ^ i);
}

/// <summary>
/// Four (or 3f+1) replicas over a perfect in-memory network and a disk that is durable at once, driven
/// synchronously: the smallest honest driver, used to set up states for handler tests.
/// </summary>
internal sealed class TestCluster
{
    public readonly ShardContext Context;
    public readonly Replica[] Replicas;
    public readonly ChainApp[] Apps;
    public readonly IReplicaSigner[] Signers;
    public readonly List<byte[]>[] Logs;
    public readonly List<(int From, ulong Client, byte[] Reply)> Replies = new();
    public readonly Queue<(int From, int To, byte[] Message)> Network = new();
    public readonly ReplicaOptions Options;
    private readonly Outbox _outbox = new();

    public TestCluster(int n = 4, ReplicaOptions? options = null, bool ed25519 = false)
    {
        Options = options ?? new ReplicaOptions { BatchRequestsMax = 4, CheckpointInterval = 4, WatermarkWindow = 8, PipelineDepth = 4, BatchDelayTicks = 1 };
        Replicas = new Replica[n];
        Apps = new ChainApp[n];
        Signers = new IReplicaSigner[n];
        Logs = new List<byte[]>[n];
        if (ed25519)
        {
            var (config, keys) = ClusterConfig.CreateLocal(1, n);
            Context = ShardContext.From(config, 0);
            for (int i = 0; i < n; i++) Signers[i] = new Ed25519ReplicaSigner(config.Shard(0), keys[new NodeId(0, (ushort)i)]);
        }
        else
        {
            Context = new ShardContext(77, 1, 0, n);
            for (int i = 0; i < n; i++) Signers[i] = new KeyedHashSigner("test"u8, n, i);
        }
        for (int i = 0; i < n; i++)
        {
            Apps[i] = new ChainApp();
            Logs[i] = new List<byte[]>();
            Replicas[i] = new Replica(Context, i, Signers[i], Apps[i], Options);
        }
    }

    public void Step(int replica, in Input input)
    {
        _outbox.Clear();
        Replicas[replica].Step(input, _outbox);
        Drain(replica);
    }

    /// <summary>Everything is durable at once; messages go to the network queue.</summary>
    public void Drain(int replica)
    {
        ulong persisted = 0;
        var pending = new List<(int, byte[])>();
        for (int i = 0; i < _outbox.Count; i++)
        {
            var o = _outbox[i];
            var payload = _outbox.Payload(o).ToArray();
            switch (o.Kind)
            {
                case OutputKind.Persist or OutputKind.PersistLazy: Logs[replica].Add(_outbox.PersistRecord(o)); persisted = o.PersistId; break;
                case OutputKind.Send or OutputKind.SendAfterPersist: pending.Add((o.To, payload)); break;
                case OutputKind.Broadcast or OutputKind.BroadcastAfterPersist: pending.Add((-1, payload)); break;
                case OutputKind.Reply: Replies.Add((replica, o.Client, payload)); break;
            }
        }
        _outbox.Clear();
        foreach (var (to, message) in pending)
        {
            for (int d = 0; d < Replicas.Length; d++)
            {
                if (d != replica && (to < 0 || to == d)) Network.Enqueue((replica, d, message));
            }
        }
        if (persisted > 0) Step(replica, Input.PersistCompleted(persisted));
    }

    public void Run(Func<(int From, int To, byte[] Message), bool>? deliver = null)
    {
        while (Network.TryDequeue(out var m))
        {
            if (deliver is null || deliver(m)) Step(m.To, Input.Message(m.From, m.Message));
        }
    }

    public static byte[] Request(ulong client, ulong number, int opLength = 4)
    {
        var buffer = new byte[Wire.RequestLengthMax(opLength)];
        int length = Wire.WriteRequest(buffer, client, number, new byte[opLength]);
        return buffer.AsSpan(0, length).ToArray();
    }

    public void Submit(ulong client, ulong number, int to = 0) => Step(to, Input.ClientRequest(Request(client, number)));

    public void TickAll(int ticks = 1)
    {
        for (int t = 0; t < ticks; t++)
        {
            for (int i = 0; i < Replicas.Length; i++) Step(i, Input.Tick());
            Run();
        }
    }
}
