using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Bench.Consensus;

/// <summary>An application that does nothing: 0-byte operations, 0-byte replies (the paper's 0/0 requests).</summary>
internal sealed class NullApp : IReplicatedStateMachine
{
    public long Executed;
    public void BeginBatch(ulong sequence) { }
    public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply) => Executed++;
    public void EndBatch(ulong sequence) { }
    public Hash256 StateDigest(ulong sequence) => Hash256.Zero;
    public void WriteSnapshot(IBufferWriter<byte> destination) { }
    public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence) { }
}

/// <summary>
/// One shard of 3f+1 replicas in one process on one thread: an in-memory network of pooled buffers and a
/// log that is durable at once (so SendAfterPersist goes out as soon as the drain reaches it, after its
/// Persist). This measures the protocol core alone: batching, digests, signatures, votes, execution, replies.
/// </summary>
internal sealed class InMemoryShard
{
    private struct Message
    {
        public int From;
        public int To;
        public byte[] Buffer;
        public int Length;
    }

    private readonly Replica[] _replicas;
    private readonly NullApp[] _apps;
    private readonly Outbox _outbox = new();
    private readonly Queue<Message> _network = new(4096);
    private readonly ulong[] _nextNumber;
    private readonly byte[] _request = new byte[64];
    // Power-of-two buffer pools owned by this shard: unlike ArrayPool.Shared, they never drop a buffer
    // (thousands of messages are in flight at once), so steady state allocates nothing here either.
    private readonly Stack<byte[]>[] _pools = new Stack<byte[]>[32];

    public InMemoryShard(int n, ReplicaOptions options, Func<int, IReplicaSigner> signer, int clients)
    {
        var context = new ShardContext(0xBE4C, 1, 0, n);
        _replicas = new Replica[n];
        _apps = new NullApp[n];
        for (int i = 0; i < n; i++)
        {
            _apps[i] = new NullApp();
            _replicas[i] = new Replica(context, i, signer(i), _apps[i], options);
        }
        _nextNumber = new ulong[clients];
    }

    public long Batches => (long)_replicas[0].LastExecuted;
    public long Executed => _apps[_apps.Length - 1].Executed;
    public long Replies { get; private set; }

    /// <summary>Submits <paramref name="requests"/> to the primary, round-robin over the clients, and runs
    /// the shard until every replica has executed them all.</summary>
    public void Round(int requests)
    {
        long target = _apps[0].Executed + requests;
        for (int i = 0; i < requests; i++)
        {
            int client = i % _nextNumber.Length;
            ulong number = ++_nextNumber[client];
            int length = Wire.WriteRequest(_request, (ulong)client + 1, number, default);
            Step(0, Input.ClientRequest(_request.AsSpan(0, length)));
        }
        while (_network.TryDequeue(out var m))
        {
            Step(m.To, Input.Message(m.From, m.Buffer.AsSpan(0, m.Length)));
            ReturnBuffer(m.Buffer);
        }
        foreach (var app in _apps)
        {
            if (app.Executed != target) throw new InvalidOperationException($"round incomplete: {app.Executed} of {target} executed");
        }
    }

    private void Step(int replica, in Input input)
    {
        _outbox.Clear();
        _replicas[replica].Step(input, _outbox);
        ulong persisted = 0;
        int n = _replicas.Length;
        for (int i = 0; i < _outbox.Count; i++)
        {
            ref readonly var o = ref _outbox[i];
            switch (o.Kind)
            {
                case OutputKind.Persist or OutputKind.PersistLazy:
                    persisted = o.PersistId;
                    break;
                case OutputKind.Send:
                case OutputKind.SendAfterPersist:
                    Enqueue(replica, o.To, _outbox.Payload(o));
                    break;
                case OutputKind.Broadcast:
                case OutputKind.BroadcastAfterPersist:
                    for (int d = 0; d < n; d++)
                    {
                        if (d != replica) Enqueue(replica, d, _outbox.Payload(o));
                    }
                    break;
                case OutputKind.Reply:
                    Replies++;
                    break;
            }
        }
        if (persisted > 0) Step(replica, Input.PersistCompleted(persisted));
    }

    private void Enqueue(int from, int to, ReadOnlySpan<byte> payload)
    {
        var buffer = RentBuffer(payload.Length);
        payload.CopyTo(buffer);
        _network.Enqueue(new Message { From = from, To = to, Buffer = buffer, Length = payload.Length });
    }

    private byte[] RentBuffer(int length)
    {
        int level = Math.Max(6, 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(length - 1)));
        var pool = _pools[level] ??= new Stack<byte[]>();
        return pool.Count > 0 ? pool.Pop() : new byte[1 << level];
    }

    private void ReturnBuffer(byte[] buffer) => _pools[System.Numerics.BitOperations.Log2((uint)buffer.Length)].Push(buffer);
}
