using System.Buffers;
using System.Numerics;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac.Tests;

/// <summary>Signatures on PBFT messages and S-BAC vote batches.</summary>
public enum ClusterAuthentication { KeyedHash, Ed25519 }

/// <summary>Sizes of an <see cref="InProcessSbacCluster"/>.</summary>
public sealed record InProcessClusterOptions
{
    public int Shards { get; init; } = 2;
    public int ReplicasPerShard { get; init; } = 4;
    public int BatchSize { get; init; } = 1024;
    public ClusterAuthentication Authentication { get; init; } = ClusterAuthentication.KeyedHash;
    /// <summary>Transactions the ledgers and object stores are sized for at start-up (no resize below it).</summary>
    public int TransactionsCapacity { get; init; } = 1 << 18;
    /// <summary>Initiator bound on transactions in flight per replica.</summary>
    public int PendingTransactionsMax { get; init; } = 1 << 16;
    /// <summary>Initiators also copy each command into an array (the compatible, allocating mode).</summary>
    public bool CopyPayloads { get; init; }
    /// <summary>PBFT checkpoint interval C, in batches (the watermark window is 2C).</summary>
    public int CheckpointInterval { get; init; } = 32;
}

/// <summary>
/// K shards × N replicas of real batched PBFT + <see cref="SbacStateMachine"/> + <see cref="SbacInitiator"/>
/// in one process, on one thread, over an in-memory FIFO network of pooled buffers, with a log that is
/// durable at once. Nothing is dropped or reordered: this measures the protocol cores (ordering, execution,
/// vote signing and verification, proofs, Accept and Create), not sockets. Clients send each Prepare to
/// the primary of every concerned shard; initiators send their Accept and Create commands to the primary
/// of the target shard (a fault-free run needs no more). Used by the S-BAC benchmark and the allocation test.
/// </summary>
public sealed class InProcessSbacCluster
{
    private enum MessageKind : byte { Pbft, Request, Votes }

    private struct Message
    {
        public MessageKind Kind;
        public int Shard;
        public int To;
        public int From;
        public byte[] Buffer;
        public int Length;
    }

    /// <summary>Runs the initiator right after each executed batch, while the ledger still holds that batch.</summary>
    private sealed class Node(InProcessSbacCluster cluster, int shard, int replica) : IReplicatedStateMachine
    {
        public SbacStateMachine App = null!;
        public SbacInitiator Initiator = null!;
        public Replica Replica = null!;
        public long Decided;
        public long Aborted;
        public ulong NextRequestNumber;

        public void BeginBatch(ulong sequence) => App.BeginBatch(sequence);

        public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            App.Execute(sequence, client, requestNumber, operation, reply);
            cluster.SbacBytes += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        public void EndBatch(ulong sequence)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            App.EndBatch(sequence);
            Initiator.OnBatchExecuted(App.Ledger, cluster._replicas[shard, replica].IsPrimary);
            cluster.SbacBytes += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        /// <summary>Checkpoint digests, counted apart: they cost O(state), not O(transactions).</summary>
        public Hash256 StateDigest(ulong sequence)
        {
            cluster.Digests++;
            return App.StateDigest(sequence);
        }
        public void WriteSnapshot(IBufferWriter<byte> destination) => App.WriteSnapshot(destination);
        public Hash256 WriteCheckpoint(ulong sequence, IBufferWriter<byte> snapshot)
        {
            cluster.Digests++;
            return App.WriteCheckpoint(sequence, snapshot);
        }
        public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence) => App.RestoreSnapshot(snapshot, sequence);
    }

    private readonly InProcessClusterOptions _options;
    private readonly Node[,] _nodes;
    private readonly Replica[,] _replicas;
    private readonly Outbox _outbox = new();
    private readonly Queue<Message> _network = new(1 << 16);
    private readonly Stack<byte[]>[] _pools = new Stack<byte[]>[32];
    private readonly byte[] _request;
    private readonly ulong[] _clientNumbers = new ulong[64];
    private int _nextClient;
    private readonly long[,] _targets;
    private readonly Func<InProcessSbacCluster, bool> _roundDone = RoundDone;

    public InProcessSbacCluster(InProcessClusterOptions options, IEnumerable<Hash256> genesis)
    {
        _options = options;
        int k = options.Shards, n = options.ReplicasPerShard;
        var (config, keys) = ClusterConfig.CreateLocal(k, n, seed: "sbac-bench");
        Config = config;
        var registry = new ContractRegistry(Dummy.Instance, CsCoin.Instance);
        var verifySigners = new IReplicaSigner[k];
        for (int s = 0; s < k; s++)
        {
            verifySigners[s] = options.Authentication == ClusterAuthentication.Ed25519
                ? new Ed25519ReplicaSigner(config.Shard(s), own: null)
                : new KeyedHashSigner(ShardSeed(s), n, 0);
        }
        var replicaOptions = new ReplicaOptions
        {
            BatchRequestsMax = options.BatchSize,
            BatchBytesMax = 256 * options.BatchSize,   // bounded bodies: slot buffers stop growing after warm-up
            RequestBytesMax = 16 * 1024,
            BatchDelayTicks = 0,
            PipelineDepth = 16,
            CheckpointInterval = options.CheckpointInterval,
            WatermarkWindow = 2 * options.CheckpointInterval,
            ClientWindow = 1 << 16,
            PendingRequestsMax = 1 << 18,
        };
        var genesisIds = genesis.ToArray();
        _nodes = new Node[k, n];
        _targets = new long[k, n];
        _replicas = new Replica[k, n];
        for (int s = 0; s < k; s++)
        {
            var own = genesisIds.Where(id => config.ShardMap.ShardOf(id) == s).ToArray();
            for (int r = 0; r < n; r++)
            {
                var id = new NodeId((ushort)s, (ushort)r);
                IReplicaSigner signer = options.Authentication == ClusterAuthentication.Ed25519
                    ? new Ed25519ReplicaSigner(config.Shard(s), keys[id])
                    : new KeyedHashSigner(ShardSeed(s), n, r);
                // One verifier per replica: its cache of verified statements is per node, as on a real cluster.
                var verifier = new ProofVerifier(config, verifySigners);
                var store = new ObjectStore(2 * options.TransactionsCapacity);
                if (store.Create(own) != StoreResult.Ok) throw new InvalidOperationException("genesis objects collide");
                var ledger = new ShardLedger(new ShardLedgerOptions
                {
                    Shard = (ushort)s, Map = config.ShardMap, Contracts = registry,
                    TransactionsCapacity = options.TransactionsCapacity, BatchVotesMax = VotesPerBatchMax(options),
                }, store, verifier);
                var node = new Node(this, s, r)
                {
                    App = new SbacStateMachine(ledger, new VoteSigner(config, id, signer, VotesPerBatchMax(options), ownStatements: verifier), new SbacOutbox()),
                    Initiator = new SbacInitiator(config, id, verifier, new InitiatorOptions
                    {
                        PendingTransactionsMax = options.PendingTransactionsMax, CopyPayloads = options.CopyPayloads,
                        CommandBytesMax = replicaOptions.RequestBytesMax,
                    }),
                };
                _nodes[s, r] = node;
                _replicas[s, r] = node.Replica = new Replica(config, id, signer, node, replicaOptions);
            }
        }
        _request = new byte[Wire.RequestLengthMax(64 * 1024)];
    }

    public ClusterConfig Config { get; }
    /// <summary>
    /// Bytes allocated by replica steps that took or stabilised a checkpoint, and how many checkpoint
    /// digests were computed. A checkpoint costs O(state), not O(transactions): the ledger's digest and
    /// snapshot, the object store's snapshot plan, the stable record that carries the snapshot to the log.
    /// </summary>
    public long CheckpointBytes { get; private set; }
    public long Digests { get; private set; }
    /// <summary>Bytes allocated inside the S-BAC layer: SbacStateMachine (ledger, vote signing) and
    /// SbacInitiator (votes, proofs, Accept and Create), checkpoint digests and snapshots excluded.</summary>
    public long SbacBytes { get; private set; }
    public int Shards => _options.Shards;
    public int ReplicasPerShard => _options.ReplicasPerShard;

    /// <summary>Decisions replica (s, r) has executed (Prepare, Accept and Create decisions).</summary>
    public long Decided(int shard, int replica) => _nodes[shard, replica].Decided;
    public long Aborted(int shard, int replica) => _nodes[shard, replica].Aborted;
    public int PendingTransactions(int shard, int replica) => _nodes[shard, replica].Initiator.PendingTransactions;
    public ShardLedger Ledger(int shard, int replica) => _nodes[shard, replica].App.Ledger;

    /// <summary>Votes one executed batch can hold: a request is a Prepare (one vote) or a Creates command (one vote per
    /// entry, outputs of a whole batch of the other shard), so room for the batch's requests and one more batch of Creates.</summary>
    private static int VotesPerBatchMax(InProcessClusterOptions options) => 2 * Math.Max(options.BatchSize, 16);

    private static byte[] ShardSeed(int shard) => System.Text.Encoding.ASCII.GetBytes($"sbac-bench-shard-{shard}");

    /// <summary>A client sends an S-BAC command to the primary of <paramref name="shard"/>.</summary>
    public void SubmitFromClient(int shard, ReadOnlySpan<byte> command)
    {
        int client = _nextClient;
        _nextClient = (_nextClient + 1) % _clientNumbers.Length;
        ulong number = ++_clientNumbers[client];
        int length = Wire.WriteRequest(_request, (ulong)client + 1, number, command);
        Enqueue(MessageKind.Request, shard, PrimaryOf(shard), -1, _request.AsSpan(0, length));
    }

    /// <summary>
    /// Submits every Prepare of <paramref name="round"/> to the primaries of its concerned shards and runs
    /// the cluster until every replica of every shard has executed the decisions the round implies
    /// (Prepare, Accept and Create alike), all of them commits.
    /// </summary>
    public void RunRound(DummyWorkload.Round round)
    {
        for (int s = 0; s < _options.Shards; s++)
        for (int r = 0; r < _options.ReplicasPerShard; r++)
            _targets[s, r] = _nodes[s, r].Decided + round.DecisionsPerShard[s];
        for (int i = 0; i < round.Prepares.Length; i++)
        {
            foreach (uint shard in round.Targets[i]) SubmitFromClient((int)shard, round.Prepares[i]);
        }
        if (!Run(_roundDone)) throw new InvalidOperationException($"round incomplete: {Describe()}");
        for (int s = 0; s < _options.Shards; s++)
        for (int r = 0; r < _options.ReplicasPerShard; r++)
        {
            if (_nodes[s, r].Aborted != 0) throw new InvalidOperationException($"s{s}r{r} aborted {_nodes[s, r].Aborted} transactions");
        }
    }

    private static bool RoundDone(InProcessSbacCluster c)
    {
        for (int s = 0; s < c._options.Shards; s++)
        for (int r = 0; r < c._options.ReplicasPerShard; r++)
        {
            if (c._nodes[s, r].Decided < c._targets[s, r]) return false;
        }
        return true;
    }

    public string Describe()
    {
        var sb = new System.Text.StringBuilder();
        for (int s = 0; s < _options.Shards; s++)
        for (int r = 0; r < _options.ReplicasPerShard; r++)
            sb.Append($"s{s}r{r}: decided {_nodes[s, r].Decided}/{_targets[s, r]}, pending {PendingTransactions(s, r)}; ");
        return sb.ToString();
    }

    /// <summary>Delivers every message until the network is empty; ticks (replicas and initiators) only
    /// when it is, at most <paramref name="idleTicksMax"/> times in a row, until <paramref name="done"/> holds.</summary>
    public bool Run(Func<InProcessSbacCluster, bool> done, int idleTicksMax = 200)
    {
        int idle = 0;
        while (true)
        {
            while (_network.TryDequeue(out var m))
            {
                Deliver(m);
                ReturnBuffer(m.Buffer);
            }
            if (done(this)) return true;
            if (++idle > idleTicksMax) return false;
            Tick();
        }
    }

    public void Tick()
    {
        for (int s = 0; s < _options.Shards; s++)
        for (int r = 0; r < _options.ReplicasPerShard; r++)
        {
            Step(s, r, Input.Tick());
            var node = _nodes[s, r];
            long before = GC.GetAllocatedBytesForCurrentThread();
            node.Initiator.OnTick(_replicas[s, r].IsPrimary, node.App.Ledger);
            SbacBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            DrainInitiator(s, r);
        }
    }

    private int PrimaryOf(int shard)
    {
        for (int r = 0; r < _options.ReplicasPerShard; r++)
        {
            if (_replicas[shard, r].IsPrimary) return r;
        }
        return 0;
    }

    private void Deliver(in Message m)
    {
        var payload = m.Buffer.AsSpan(0, m.Length);
        switch (m.Kind)
        {
            case MessageKind.Pbft:
                Step(m.Shard, m.To, Input.Message(m.From, payload));
                break;
            case MessageKind.Request:
                Step(m.Shard, m.To, Input.ClientRequest(payload));
                break;
            case MessageKind.Votes:
                var from = new NodeId((ushort)(m.From / _options.ReplicasPerShard), (ushort)(m.From % _options.ReplicasPerShard));
                long before = GC.GetAllocatedBytesForCurrentThread();
                _nodes[m.Shard, m.To].Initiator.OnVotes(payload, from, _nodes[m.Shard, m.To].App.Ledger, _replicas[m.Shard, m.To].IsPrimary);
                SbacBytes += GC.GetAllocatedBytesForCurrentThread() - before;
                DrainInitiator(m.Shard, m.To);
                break;
        }
    }

    private void Step(int shard, int replica, in Input input)
    {
        _outbox.Clear();
        long digests = Digests, sbac = SbacBytes, before = GC.GetAllocatedBytesForCurrentThread();
        _replicas[shard, replica].Step(input, _outbox);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        bool checkpoint = Digests != digests;
        ulong persisted = 0;
        int n = _options.ReplicasPerShard;
        for (int i = 0; i < _outbox.Count; i++)
        {
            ref readonly var o = ref _outbox[i];
            switch (o.Kind)
            {
                case OutputKind.Persist or OutputKind.PersistLazy:
                    persisted = Math.Max(persisted, o.PersistId);   // an in-memory disk: durable at once
                    break;
                case OutputKind.CheckpointStable:
                case OutputKind.TruncateLog:
                    checkpoint = true;
                    break;
                case OutputKind.Send:
                case OutputKind.SendAfterPersist:
                    Enqueue(MessageKind.Pbft, shard, o.To, replica, _outbox.Payload(o));
                    break;
                case OutputKind.Broadcast:
                case OutputKind.BroadcastAfterPersist:
                    for (int d = 0; d < n; d++)
                    {
                        if (d != replica) Enqueue(MessageKind.Pbft, shard, d, replica, _outbox.Payload(o));
                    }
                    break;
            }
        }
        if (checkpoint) CheckpointBytes += allocated - (SbacBytes - sbac);
        DrainApp(shard, replica);
        DrainInitiator(shard, replica);
        if (persisted > 0) Step(shard, replica, Input.PersistCompleted(persisted));
    }

    /// <summary>Vote batches go to every replica of their shard (the sender's own shard included: its own
    /// vote counts towards f+1); decisions are counted.</summary>
    private void DrainApp(int shard, int replica)
    {
        var node = _nodes[shard, replica];
        var outbox = node.App.Outbox;
        int n = _options.ReplicasPerShard;
        for (int i = 0; i < outbox.Count; i++)
        {
            var o = outbox[i];
            if (o.Kind == SbacOutputKind.VotesToShard)
            {
                for (int d = 0; d < n; d++) Enqueue(MessageKind.Votes, (int)o.Shard, d, shard * n + replica, outbox.Payload(o));
            }
            else if (o.Kind == SbacOutputKind.Decided)
            {
                node.Decided++;
                if (o.Decision == Decision.Abort) node.Aborted++;
            }
        }
        outbox.Clear();
    }

    private void DrainInitiator(int shard, int replica)
    {
        var node = _nodes[shard, replica];
        var initiator = node.Initiator;
        var actions = initiator.Actions;
        for (int i = 0; i < actions.Count; i++)
        {
            var a = actions[i];
            if (a.Kind == InitiatorActionKind.SubmitCommand)
            {
                ulong client = ClientIds.ForReplica(new NodeId((ushort)shard, (ushort)replica));
                int length = Wire.WriteRequest(_request, client, ++node.NextRequestNumber, initiator.PayloadOf(a));
                Enqueue(MessageKind.Request, (int)a.Shard, PrimaryOf((int)a.Shard), -1, _request.AsSpan(0, length));
            }
            else if (a.Kind == InitiatorActionKind.FetchBody
                     && _nodes[a.Node.Shard, a.Node.Replica].App.Ledger.TryGetPendingBody(a.TransactionId, out var body))
            {
                // The voter answers at once (an in-memory network); OnBody may add actions, read below.
                long before = GC.GetAllocatedBytesForCurrentThread();
                initiator.OnBody(a.TransactionId, body, _replicas[shard, replica].IsPrimary);
                SbacBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }
        initiator.ClearActions();
    }

    private void Enqueue(MessageKind kind, int shard, int to, int from, ReadOnlySpan<byte> payload)
    {
        var buffer = RentBuffer(payload.Length);
        payload.CopyTo(buffer);
        _network.Enqueue(new Message { Kind = kind, Shard = shard, To = to, From = from, Buffer = buffer, Length = payload.Length });
    }

    // Power-of-two buffer pools owned by the network: they never drop a buffer, so steady state allocates nothing.
    private byte[] RentBuffer(int length)
    {
        int level = Math.Max(6, 32 - BitOperations.LeadingZeroCount((uint)(length - 1)));
        var pool = _pools[level] ??= new Stack<byte[]>();
        return pool.Count > 0 ? pool.Pop() : new byte[1 << level];
    }

    private void ReturnBuffer(byte[] buffer) => _pools[BitOperations.Log2((uint)buffer.Length)].Push(buffer);
}
