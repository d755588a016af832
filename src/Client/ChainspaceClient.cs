using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Node.Config;
using Chainspace.Node.Protocol;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;
using Chainspace.Transport;

namespace Chainspace.Client;

/// <summary>How a submitted transaction ended, as the client saw it.</summary>
public enum Outcome : byte
{
    Committed = 1,
    Aborted = 2,
    /// <summary>f+1 replicas of a concerned shard found the transaction malformed or not theirs.</summary>
    Rejected = 3,
    /// <summary>No decision within the timeout.</summary>
    TimedOut = 4,
}

/// <summary>A transaction ready to submit: its Prepare request operation, id and concerned shards.</summary>
public sealed class PreparedTransaction
{
    [ThreadStatic] private static ParsedTransaction? t_parsed;   // sized by the limits: reused, not rebuilt per transaction

    public PreparedTransaction(ReadOnlySpan<byte> encodedTransaction, ShardMap map, CodecLimits? limits = null)
    {
        var parsed = limits is null ? (t_parsed ??= new ParsedTransaction(CodecLimits.Default)) : new ParsedTransaction(limits);
        if (!parsed.TryParse(encodedTransaction, out var failure)) throw new CodecException(failure);
        Id = parsed.ComputeIds(encodedTransaction);
        Span<uint> shards = stackalloc uint[(int)map.ShardCount];
        int n = parsed.ConcernedShards(map, shards);
        if (n == 0) throw new ArgumentException("the transaction has no inputs or references: no shard is concerned by it");
        ConcernedShards = shards[..n].ToArray();
        var op = new ArrayBufferWriter<byte>(encodedTransaction.Length + 16);
        SbacCommand.WritePrepare(op, encodedTransaction);
        Operation = op.WrittenSpan.ToArray();
        _transactionLength = encodedTransaction.Length;
    }

    public PreparedTransaction(Transaction transaction, ShardMap map) : this(transaction.Encode(), map) { }

    public Hash256 Id { get; }
    public uint[] ConcernedShards { get; }
    /// <summary>The encoded transaction: the tail of <see cref="Operation"/>, which carries it as a Prepare's blob.</summary>
    public ReadOnlyMemory<byte> EncodedTransaction => Operation.AsMemory(Operation.Length - _transactionLength);
    private readonly int _transactionLength;
    public byte[] Operation { get; }
}

/// <summary>
/// The client side of S-BAC over the node protocol: connects to every replica (reconnecting), sends a
/// transaction's Prepare to the primary of each concerned shard and, after <see cref="RetryAfter"/>, to all
/// of that shard's replicas; a transaction is decided once f+1 replicas of one concerned shard report the
/// same decision (replicas of every concerned shard decide the same way, so one shard's f+1 is binding).
/// Completion callbacks run on a transport thread: keep them short.
/// </summary>
public sealed class ChainspaceClient : IFrameHandler, IAsyncDisposable
{
    private sealed class Pending
    {
        public PreparedTransaction Tx = null!;
        public ulong RequestNumber;
        public long SentAt;                    // Environment.TickCount64
        public long LastSent;
        public long RetryDelay;                // ms until the next retransmission; doubles after each
        public ulong[] Commit = [];            // per concerned shard: bitmask of replicas reporting commit
        public ulong[] Abort = [];
        public ulong[] Rejected = [];
        public Action<PreparedTransaction, Outcome, object?>? Done;
        public object? State;
    }

    private readonly ClusterFile _file;
    private readonly ClusterConfig _cluster;
    private readonly ITransport _transport;
    private readonly PeerLink[][] _links;
    private readonly ulong _clientId;
    private readonly object _gate = new();
    private readonly Dictionary<Hash256, Pending> _pending = new();
    private readonly Dictionary<ulong, TaskCompletionSource<(bool Ok, byte[] Result)>> _queries = new();
    private readonly ulong[] _views;
    private readonly Timer _retry;
    private ulong _requestNumber;
    private ulong _queryNumber;
    private long _resent;

    private readonly ReceiptCollector? _receipts;

    private ChainspaceClient(ClusterFile file, ulong clientId, TransportKind kind, bool receipts)
    {
        _file = file;
        if (receipts) _receipts = new ReceiptCollector(file.Cluster);
        _cluster = file.Cluster;
        _clientId = clientId;
        _views = new ulong[_cluster.Shards.Count];
        _transport = TransportFactory.Create(kind, _cluster, LocalIdentity.Client(), this, new TransportOptions
        {
            PeerFrameTypes = FrameType.PeerTypes,
            ClientFrameTypes = FrameType.ClientTypes,
            FrameBytesMax = 16 << 20,
            SendQueueBytesMax = 64 << 20,
        });
        _links = new PeerLink[_cluster.Shards.Count][];
        for (int s = 0; s < _links.Length; s++)
        {
            var shard = _cluster.Shard(s);
            _links[s] = new PeerLink[shard.N];
            for (int r = 0; r < shard.N; r++) _links[s][r] = PeerLink.ToReplica(_transport, _cluster, new NodeId((ushort)s, (ushort)r));
        }
        _requestNumber = (ulong)(DateTime.UtcNow.Ticks / 10);
        _retry = new Timer(_ => Retransmit(), null, 100, 100);
    }

    public ClusterFile File => _file;
    public ulong ClientId => _clientId;
    /// <summary>How long a transaction waits for a decision before it is sent to every replica of its shards
    /// (then twice as long before each further retransmission).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>How long <see cref="Submit"/> waits for a decision before reporting <see cref="Outcome.TimedOut"/>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    public int InFlight
    {
        get { lock (_gate) return _pending.Count; }
    }
    public long Resent => Interlocked.Read(ref _resent);

    /// <summary>Connects to every replica; waits until at least one replica per shard is reachable or throws.</summary>
    /// <param name="receipts">Ask replicas for the signed votes on this client's transactions, so that
    /// <see cref="WaitForReceiptAsync"/> can assemble verifiable receipts (costs each replica a message per batch).
    /// Votes are kept for each submitted transaction until its receipt is taken, for at most 4,096 transactions
    /// at once; a transaction submitted beyond that gets no receipt.</param>
    public static async Task<ChainspaceClient> ConnectAsync(ClusterFile file, TimeSpan wait, TransportKind? kind = null, CancellationToken cancellationToken = default,
        bool receipts = false)
    {
        Span<byte> random = stackalloc byte[8];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        ulong id = BitConverter.ToUInt64(random) & 0x3FFF_FFFF_FFFF_FFFF;   // below ClientIds' replica range
        var kindValue = kind ?? (file.Settings.Transport == "dotnetty" ? TransportKind.DotNetty : TransportKind.Socket);
        var client = new ChainspaceClient(file, id, kindValue, receipts);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            bool all = true;
            foreach (var row in client._links)
            {
                bool any = false;
                foreach (var link in row) any |= link.IsConnected;
                all &= any;
            }
            if (all) return client;
            if (DateTime.UtcNow > deadline)
            {
                await client.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"cluster unreachable: no replica of some shard answered within {wait.TotalSeconds:F0} s (is the cluster running at the addresses in the cluster file?)");
            }
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when the link to <paramref name="node"/> is up.</summary>
    public bool IsConnected(NodeId node) => _links[node.Shard][node.Replica].IsConnected;

    /// <summary>True when every replica of the cluster is connected.</summary>
    public bool AllConnected
    {
        get
        {
            foreach (var row in _links)
                foreach (var link in row)
                    if (!link.IsConnected) return false;
            return true;
        }
    }

    // ------------------------------------------------------------------ submitting

    /// <summary>
    /// Sends <paramref name="tx"/>; <paramref name="done"/> runs once with the outcome. Returns false if the same
    /// transaction is already in flight.
    /// </summary>
    public bool Submit(PreparedTransaction tx, Action<PreparedTransaction, Outcome, object?> done, object? state = null)
    {
        Pending p;
        lock (_gate)
        {
            if (_pending.ContainsKey(tx.Id)) return false;
            p = new Pending
            {
                Tx = tx,
                RequestNumber = ++_requestNumber,
                SentAt = Environment.TickCount64,
                Commit = new ulong[tx.ConcernedShards.Length],
                Abort = new ulong[tx.ConcernedShards.Length],
                Rejected = new ulong[tx.ConcernedShards.Length],
                Done = done,
                State = state,
            };
            p.LastSent = p.SentAt;
            p.RetryDelay = (long)RetryAfter.TotalMilliseconds;
            _pending.Add(tx.Id, p);
            _receipts?.Track(tx.Id);
        }
        Send(p, toAll: false);
        return true;
    }

    /// <summary>
    /// The receipt of a decided transaction: waits until the votes received establish <paramref name="outcome"/>
    /// with f+1 signatures per shard (votes can trail the decision), then stops tracking the transaction.
    /// Needs a client connected with receipts; throws <see cref="TimeoutException"/> when the votes do not come.
    /// </summary>
    public async Task<Receipt> WaitForReceiptAsync(PreparedTransaction tx, Outcome outcome, TimeSpan timeout)
    {
        if (_receipts is null) throw new InvalidOperationException("this client was connected without receipts");
        if (outcome is not (Outcome.Committed or Outcome.Aborted)) throw new ArgumentException($"a {outcome} transaction has no receipt", nameof(outcome));
        var decision = outcome == Outcome.Committed ? Decision.Commit : Decision.Abort;
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_receipts.TryBuild(tx, decision, out var receipt)) return receipt!;
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no receipt for {tx.Id} within {timeout.TotalSeconds:F0} s: too few signed votes arrived");
                await Task.Delay(20).ConfigureAwait(false);   // polling: votes arrive within a batch or two of the decision
            }
        }
        finally
        {
            lock (_gate) _receipts.Forget(tx.Id);
        }
    }

    public Task<Outcome> SubmitAsync(PreparedTransaction tx)
    {
        var tcs = new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!Submit(tx, static (_, outcome, state) => ((TaskCompletionSource<Outcome>)state!).TrySetResult(outcome), tcs))
            throw new InvalidOperationException($"transaction {tx.Id} is already in flight");
        return tcs.Task;
    }

    private void Send(Pending p, bool toAll)
    {
        var op = p.Tx.Operation;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Wire.RequestLengthMax(op.Length));
        try
        {
            int length = Wire.WriteRequest(buffer, _clientId, p.RequestNumber, op);
            var frame = buffer.AsSpan(0, length);
            foreach (uint shard in p.Tx.ConcernedShards)
            {
                var row = _links[shard];
                if (toAll)
                {
                    foreach (var link in row) link.TrySend(FrameType.ClientRequest, frame);
                }
                else
                {
                    ulong view = Volatile.Read(ref _views[shard]);
                    row[(int)(view % (ulong)row.Length)].TrySend(FrameType.ClientRequest, frame);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Retransmit()
    {
        long now = Environment.TickCount64;
        List<Pending>? resend = null, expired = null;
        lock (_gate)
        {
            foreach (var p in _pending.Values)
            {
                if (now - p.SentAt >= (long)Timeout.TotalMilliseconds) (expired ??= []).Add(p);
                else if (now - p.LastSent >= p.RetryDelay)
                {
                    // Exponential backoff: under overload, retransmitting to every replica at a fixed
                    // rate would multiply the load on a cluster that is only slow, not faulty.
                    p.LastSent = now;
                    p.RetryDelay = Math.Min(p.RetryDelay * 2, 8_000);
                    (resend ??= []).Add(p);
                }
            }
            if (expired is not null) foreach (var p in expired) _pending.Remove(p.Tx.Id);
        }
        if (resend is not null)
        {
            foreach (var p in resend) Send(p, toAll: true);
            Interlocked.Add(ref _resent, resend.Count);
        }
        if (expired is not null) foreach (var p in expired) p.Done?.Invoke(p.Tx, Outcome.TimedOut, p.State);
    }

    // ------------------------------------------------------------------ queries

    public async Task<ObjectState> QueryObjectAsync(Hash256 objectId, TimeSpan timeout)
    {
        uint shard = _cluster.ShardMap.ShardOf(objectId);
        var (ok, result) = await QueryAsync(_links[shard], QueryKind.ObjectState, objectId, timeout).ConfigureAwait(false);
        if (!ok || result.Length != 1) throw new InvalidOperationException("the replica could not answer the object query");
        return (ObjectState)result[0];
    }

    /// <summary>The object's state as one given replica reports it (monitoring, tests).</summary>
    public async Task<ObjectState> QueryObjectAsync(NodeId node, Hash256 objectId, TimeSpan timeout)
    {
        var (ok, result) = await QueryAsync([_links[node.Shard][node.Replica]], QueryKind.ObjectState, objectId, timeout).ConfigureAwait(false);
        if (!ok || result.Length != 1) throw new InvalidOperationException($"{node} could not answer the object query");
        return (ObjectState)result[0];
    }

    public async Task<NodeStats> QueryStatsAsync(NodeId node, TimeSpan timeout)
    {
        var (ok, result) = await QueryAsync([_links[node.Shard][node.Replica]], QueryKind.Stats, default, timeout).ConfigureAwait(false);
        if (!ok || !NodeStats.TryRead(result, out var stats)) throw new InvalidOperationException($"{node} sent a malformed stats answer");
        return stats;
    }

    /// <summary>Asks the first connected link of <paramref name="links"/> (f+1 answers are not collected:
    /// queries are for monitoring and tests; decisions and receipts carry the guarantees).</summary>
    private async Task<(bool Ok, byte[] Result)> QueryAsync(PeerLink[] links, QueryKind kind, Hash256 objectId, TimeSpan timeout)
    {
        var tcs = new TaskCompletionSource<(bool, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        ulong id;
        lock (_gate)
        {
            id = ++_queryNumber;
            _queries.Add(id, tcs);
        }
        Span<byte> q = stackalloc byte[ClientMessages.QuerySizeMax];
        int length = ClientMessages.WriteQuery(q, id, kind, objectId);
        bool sent = false;
        foreach (var link in links)
        {
            if (link.TrySend(FrameType.Query, q[..length]) == SendStatus.Queued)
            {
                sent = true;
                break;
            }
        }
        try
        {
            if (!sent) throw new TimeoutException("no replica to ask is connected");
            return await tcs.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate) _queries.Remove(id);
        }
    }

    // ------------------------------------------------------------------ receiving

    void IFrameHandler.OnConnected(Connection connection)
    {
        Span<byte> hello = stackalloc byte[ClientMessages.HelloWithFlagsSize];
        int length = ClientMessages.WriteHello(hello, _clientId, _receipts is null ? (byte)0 : ClientMessages.HelloWantsReceipts);
        connection.TrySend(FrameType.ClientHello, hello[..length]);
    }

    void IFrameHandler.OnDisconnected(Connection connection, string reason) { }

    void IFrameHandler.OnFrame(Connection connection, in InboundFrame frame)
    {
        if (connection.Peer.IsClient) return;
        var from = connection.Peer.Id;
        switch (frame.Type)
        {
            case FrameType.Reply:
                if (!Wire.TryReadReply(frame.Payload, LedgerReply.Size, out var reply) || reply.Client != _clientId) return;
                if ((uint)from.Shard < (uint)_views.Length)
                {
                    ulong seen = Volatile.Read(ref _views[from.Shard]);
                    if (reply.View > seen) Interlocked.CompareExchange(ref _views[from.Shard], reply.View, seen);
                }
                if (!LedgerReply.TryRead(reply.Result, out var ledgerReply)) return;
                switch (ledgerReply.Status)
                {
                    case LedgerStatus.Decided when ledgerReply.Decision is { } d:
                        Record(from, ledgerReply.TransactionId, d == Decision.Commit ? Outcome.Committed : Outcome.Aborted);
                        break;
                    case LedgerStatus.Malformed or LedgerStatus.NotConcerned or LedgerStatus.InvalidProof:
                        RecordRejectedByRequest(from, reply.RequestNumber);
                        break;
                }
                break;
            case FrameType.Decision:
                if (ClientMessages.TryReadDecision(frame.Payload, out var txId, out var decision))
                    Record(from, txId, decision == Decision.Commit ? Outcome.Committed : Outcome.Aborted);
                break;
            case FrameType.ReceiptVotes:
                if (_receipts is null) return;
                lock (_gate) _receipts.OnVotes(frame.Payload, from);
                break;
            case FrameType.QueryResult:
                if (!ClientMessages.TryReadQueryResult(frame.Payload, out ulong queryId, out _, out bool ok, out var result)) return;
                TaskCompletionSource<(bool, byte[])>? tcs;
                lock (_gate) _queries.TryGetValue(queryId, out tcs);
                tcs?.TrySetResult((ok, result.ToArray()));
                break;
        }
    }

    private void Record(NodeId from, in Hash256 txId, Outcome outcome)
    {
        Pending? done = null;
        lock (_gate)
        {
            if (!_pending.TryGetValue(txId, out var p)) return;
            int i = Array.IndexOf(p.Tx.ConcernedShards, (uint)from.Shard);
            if (i < 0) return;
            ulong bit = 1UL << from.Replica;
            var masks = outcome == Outcome.Committed ? p.Commit : p.Abort;
            masks[i] |= bit;
            if (System.Numerics.BitOperations.PopCount(masks[i]) >= _cluster.Shard(from.Shard).WeakQuorum)
            {
                _pending.Remove(txId);
                done = p;
            }
        }
        done?.Done?.Invoke(done.Tx, outcome, done.State);
    }

    private void RecordRejectedByRequest(NodeId from, ulong requestNumber)
    {
        Pending? done = null;
        lock (_gate)
        {
            foreach (var p in _pending.Values)
            {
                if (p.RequestNumber != requestNumber) continue;
                int i = Array.IndexOf(p.Tx.ConcernedShards, (uint)from.Shard);
                if (i < 0) return;
                p.Rejected[i] |= 1UL << from.Replica;
                if (System.Numerics.BitOperations.PopCount(p.Rejected[i]) >= _cluster.Shard(from.Shard).WeakQuorum)
                {
                    _pending.Remove(p.Tx.Id);
                    done = p;
                }
                break;
            }
        }
        done?.Done?.Invoke(done.Tx, Outcome.Rejected, done.State);
    }

    public async ValueTask DisposeAsync()
    {
        await _retry.DisposeAsync().ConfigureAwait(false);
        foreach (var row in _links)
            foreach (var link in row) await link.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
