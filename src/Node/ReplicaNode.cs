using System.Buffers;
using System.Diagnostics;
using System.Net;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Core.Validation;
using Chainspace.Node.Config;
using Chainspace.Node.Protocol;
using Chainspace.Sbac;
using Chainspace.Storage.Devices;
using Chainspace.Storage.Log;
using Chainspace.Storage.Objects;
using Chainspace.Transport;

namespace Chainspace.Node;

/// <summary>
/// One replica as a process component: the PBFT replica, the S-BAC ledger and initiator, the append log
/// and the transport, driven by one event-loop thread (DESIGN.md, "sans-I/O protocol cores").
/// <para>
/// Transport threads only copy frames into the loop's queue (pooled blocks, <see cref="FrameLease"/>).
/// The loop steps the state machines one input at a time and drains their outboxes: messages go to the
/// transport, records to the log. Group commit: records are appended as they come and made durable with
/// one flush once the queue is drained; messages that vouch for those records (SendAfterPersist) are
/// parked until that flush returns, then sent, and the replica is told what is durable.
/// </para>
/// Nothing on this path allocates per transaction in steady state: the queue, the parked-message arena,
/// the scratch buffers and the client tables are reused.
/// </summary>
public sealed class ReplicaNode : IFrameHandler, IAsyncDisposable
{
    private const byte LogRecordType = 1;

    private readonly ClusterFile _file;
    private readonly ClusterConfig _cluster;
    private readonly NodeId _self;
    private readonly ShardConfig _shard;
    private readonly Replica _replica;
    private readonly ShardLedger _ledger;
    private readonly SbacStateMachine _app;
    private readonly SbacInitiator _initiator;
    private readonly Outbox _outbox = new();
    private readonly AppendLog? _log;
    private readonly ITransport _transport;
    private readonly PeerLink?[][] _links;
    private readonly Action<string> _logLine;
    private readonly int _tickMilliseconds;
    private readonly bool _fsync;
    private readonly ulong _initiatorClient;
    private ulong _initiatorRequestNumber;

    // Inbound queue: transport threads append under the lock; the runner (whichever thread set _running)
    // swaps the two lists and steps the replica. _running and _started are guarded by _gate.
    private readonly object _gate = new();
    private List<Inbound> _incoming = new(1024);
    private List<Inbound> _draining = new(1024);
    private bool _running;
    private bool _started;
    private volatile bool _stopping;
    private Thread? _thread;   // the timer thread (TimerLoop)

    // Logical time, read and advanced only by the runner.
    private readonly Stopwatch _clock = new();
    private readonly long _tickTicks;
    // How long the replica must have been quiet before the timer thread steps a due tick itself (see TimerLoop).
    private readonly long _timerQuietTicks;
    /// <summary>
    /// Ticks of quiet before the timer thread steps a due tick. Under load a frame arrives every few hundred
    /// microseconds and its round steps the due ticks, so a timer waking every tick (5 ms) only added a wake-up and a
    /// context switch per node per tick; a tick's timeouts are lower bounds, and a tick stepped up to this many ticks
    /// late on a replica nothing is talking to changes none of them by more than that. Below the 4 ticks a round
    /// catches up, so an idle replica's logical time still keeps pace with the clock.
    /// </summary>
    private const int TimerQuietTicks = 3;
    private long _lastRoundEnded;   // when the last runner gave up stepping (Stopwatch ticks; under _gate)
    private long _nextTick;
    private IConnectionListener? _listener;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Durability. With fsync on, a flusher thread makes the log durable while the loop goes on stepping:
    // the loop appends and asks for a flush of everything up to an id; the flusher answers through the
    // queue. Messages that vouch for records not yet durable wait in the parked arena.
    private ulong _appendedId;
    private ulong _durableId;
    private ulong _flushRequested;   // highest id handed to the flusher (loop thread writes, flusher reads)
    // Lazy records (OutputKind.PersistLazy) wait for the next flush that something waits for: _awaitedId is the
    // highest record id appended as Persist, _lazySince when the oldest lazy record no flush covers yet was appended
    // (0: none). One left alone is flushed once it is LazyFlushMilliseconds old, at the end of the next round.
    private ulong _awaitedId;
    private long _lazySince;
    private const int LazyFlushMilliseconds = 50;
    private readonly object _flushGate = new();
    private Thread? _flusher;
    private Exception? _flushFailure;
    private ArrayBufferWriter<byte> _parkedArena = new(64 * 1024);
    private ArrayBufferWriter<byte> _parkedSpare = new(64 * 1024);
    private readonly List<Parked> _parked = new(256);

    // Clients: where replies and decisions go.
    private readonly Dictionary<ulong, Connection> _clients = new();
    private readonly Dictionary<Hash256, ulong> _waiting = new();
    private readonly HashSet<ulong> _receiptClients = new();   // clients whose hello asked for their votes (receipts)

    private readonly byte[] _scratch;

    // Counters (written by the loop, read by metrics and stats queries).
    private long _committed, _aborted, _batches, _requests, _viewChanges, _logFlushes, _rejectedFrames, _sendDrops;
    private long _queueDepth;
    private Hash256 _stableDigest;

    private readonly struct Inbound(byte type, NodeId from, Connection? connection, FrameLease lease, ulong value = 0)
    {
        public readonly byte Type = type;
        public readonly NodeId From = from;
        public readonly Connection? Connection = connection;   // set for client frames and disconnects
        public readonly FrameLease Lease = lease;
        public readonly ulong Value = value;                   // InternalDurable: the persist id now durable
    }

    private const byte InternalDisconnected = 255;
    private const byte InternalDurable = 254;
    private const byte InternalFlushFailed = 253;

    private readonly record struct Parked(ulong PersistId, int To, int Offset, int Length);

    public ReplicaNode(ClusterFile file, NodeId self, Ed25519KeyPair key, string? dataDirectory, Action<string>? log = null)
    {
        _file = file ?? throw new ArgumentNullException(nameof(file));
        _cluster = file.Cluster;
        _self = self;
        if (!_cluster.TryGetReplica(self, out _)) throw new ConfigException($"node {self} is not in the cluster file");
        _shard = _cluster.Shard(self.Shard);
        _logLine = log ?? (_ => { });
        var s = file.Settings;
        _tickMilliseconds = s.TickMilliseconds;
        _tickTicks = Stopwatch.Frequency * _tickMilliseconds / 1000;
        // A batch delay is counted in ticks, so with one the timer must step each tick on time.
        _timerQuietTicks = _tickTicks * (s.BatchDelayTicks > 0 ? 1 : TimerQuietTicks);
        _fsync = s.Fsync;

        var registry = new ContractRegistry(Dummy.Instance, CsCoin.Instance);
        var verifier = ProofVerifier.FromConfiguration(_cluster);
        var genesis = GenesisObjects.IdsForShard(file, self.Shard);
        var store = new ObjectStore(Math.Max(1024, genesis.Length * 2));
        if (store.Create(genesis) != StoreResult.Ok) throw new ConfigException("genesis: two genesis objects have the same id");
        // Sized from the genesis like the store (each object is spent at most once, so the transactions this shard
        // records grow with its objects): a table that doubles mid-run rehashes ~10^5 entries into fresh memory
        // on every replica of the shard at once, a stall of every transaction in flight.
        _ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = self.Shard, Map = _cluster.ShardMap, Contracts = registry, TransactionsCapacity = Math.Max(1 << 16, genesis.Length * 2),
        }, store, verifier);
        var signer = new Ed25519ReplicaSigner(_shard, key);
        _app = new SbacStateMachine(_ledger, new VoteSigner(_cluster, self, signer, ownStatements: verifier), new SbacOutbox());
        _app.SendsReceiptsTo = client => _receiptClients.Count > 0 && _receiptClients.Contains(client);
        var options = new ReplicaOptions
        {
            BatchRequestsMax = s.BatchRequestsMax,
            BatchDelayTicks = s.BatchDelayTicks,
            PipelineDepth = s.PipelineDepth,
            CheckpointInterval = s.CheckpointInterval,
            SnapshotChunkBytes = s.SnapshotChunkBytes,
            WatermarkWindow = s.WatermarkWindow,
            RequestTimeoutTicks = s.RequestTimeoutTicks,
            ViewChangeTimeoutTicks = s.ViewChangeTimeoutTicks,
            ViewChangeTimeoutMaxTicks = Math.Max(s.ViewChangeTimeoutTicks, 16 * s.ViewChangeTimeoutTicks),
            StatusIntervalTicks = s.StatusIntervalTicks,
        }.Validate();
        _replica = new Replica(_cluster, self, signer, _app, options);
        _initiator = new SbacInitiator(_cluster, self, verifier, new InitiatorOptions
        {
            BackupDelayTicks = Math.Max(1, s.InitiatorBackupDelayTicks),
            RetryDelayTicks = s.InitiatorRetryDelayTicks,
            CopyPayloads = false,   // commands are read from the initiator's arena (PayloadOf), not copied
            CommandBytesMax = options.RequestBytesMax,
        });
        _app.BatchExecuted = OnBatchExecuted;
        _initiatorClient = ClientIds.ForReplica(self);
        // Request numbers of this replica's own commands must grow across restarts (the shards' client
        // tables remember the highest one): start from the clock, in microseconds.
        _initiatorRequestNumber = (ulong)(DateTime.UtcNow.Ticks / 10);
        _scratch = new byte[Math.Max(options.BatchBytesMax, ShardLedgerOptionsBodyMax) + 1024];

        if (dataDirectory is not null)
        {
            Directory.CreateDirectory(dataDirectory);
            _log = AppendLog.Open(new MmapDevice(dataDirectory));
            var report = _log.Recovery;
            _logLine($"log {dataDirectory}: {report}");
        }

        _links = new PeerLink?[_cluster.Shards.Count][];
        for (int sh = 0; sh < _links.Length; sh++) _links[sh] = new PeerLink?[_cluster.Shard(sh).N];
        var transportOptions = new TransportOptions
        {
            PeerFrameTypes = FrameType.PeerTypes,
            ClientFrameTypes = FrameType.ClientTypes,
            FrameBytesMax = 16 << 20,   // holds a snapshot piece (NodeSettings.SnapshotChunkBytesMax)
            SendQueueBytesMax = 64 << 20,
            CompressBytesMin = s.CompressBytesMin == 0 ? int.MaxValue : s.CompressBytesMin,
            // Replicas are each other's only peers: a replica that was down is reconnected to within a
            // quarter second, so a restart does not leave the shard short of prepares for seconds.
            ReconnectDelayMax = TimeSpan.FromMilliseconds(250),
            Logger = (level, message) =>
            {
                if (level >= TransportLogLevel.Warning) _logLine($"transport {level}: {message}");
            },
        };
        var kind = s.Transport == "dotnetty" ? TransportKind.DotNetty : TransportKind.Socket;
        _transport = TransportFactory.Create(kind, _cluster, LocalIdentity.Replica(_cluster, self, key), this, transportOptions);
        Metrics = new NodeMetrics(this);
    }

    private const int ShardLedgerOptionsBodyMax = 1 << 20;

    public NodeId Id => _self;
    public NodeMetrics Metrics { get; }
    public Task Stopped => _stopped.Task;
    internal Replica Replica => _replica;
    internal ShardLedger Ledger => _ledger;

    // ------------------------------------------------------------------ life cycle

    /// <summary>Recovers from the log, listens, connects to every other replica and starts the loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Recover();
        var me = _cluster.Replica(_self);
        _listener = await _transport.ListenAsync(new IPEndPoint(IPAddress.Parse(me.Host), me.Port), cancellationToken).ConfigureAwait(false);
        foreach (var replica in _cluster.AllReplicas)
        {
            if (replica.Id == _self) continue;
            _links[replica.Id.Shard][replica.Id.Replica] = PeerLink.ToReplica(_transport, _cluster, replica.Id);
        }
        if (_log is not null && _fsync)
        {
            _flusher = new Thread(FlushLoop) { Name = $"log flusher {_self}", IsBackground = true };
            _flusher.Start();
        }
        _clock.Start();
        _nextTick = _tickTicks;
        _thread = new Thread(TimerLoop) { Name = $"replica {_self}", IsBackground = true };
        lock (_gate) _started = true;   // from here on, the thread that queues an input may step the replica
        _thread.Start();
        _logLine($"replica {_self} listening on {_listener.EndPoint}, view {_replica.View}, executed {_replica.LastExecuted}");
    }

    private void Recover()
    {
        if (_log is null || !_log.HasRecords) return;
        int records = 0;
        foreach (var record in _log.ReadAll())
        {
            _replica.Recover(record.Payload);
            records++;
        }
        _appendedId = _durableId = _log.LastSequence;
        _replica.CompleteRecovery(_outbox);
        DrainOutbox();
        DrainApp();
        _logLine($"recovered {records} records: view {_replica.View}, executed {_replica.LastExecuted}, stable {_replica.StableSequence}");
    }

    /// <summary>Stops the loop (after it finishes the current round and its flush) and closes everything.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        if (_thread is not null) await _stopped.Task.ConfigureAwait(false);
        lock (_flushGate) Monitor.PulseAll(_flushGate);
        _flusher?.Join();
        if (_log is not null && _fsync && !_log.IsFaulted) _log.Flush();   // whatever the last round appended
        // The transport closes its listeners itself.
        foreach (var row in _links)
            for (int i = 0; i < row.Length; i++)
                if (row[i] is { } link) await link.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var item in _incoming) item.Lease.Dispose();
            _incoming.Clear();
        }
        _log?.Dispose();
        Metrics.Dispose();
    }

    // ------------------------------------------------------------------ transport threads

    void IFrameHandler.OnConnected(Connection connection) { }

    void IFrameHandler.OnFrame(Connection connection, in InboundFrame frame)
    {
        var peer = connection.Peer;
        var lease = frame.Retain();
        Enqueue(new Inbound(frame.Type, peer.IsClient ? default : peer.Id, peer.IsClient ? connection : null, lease));
    }

    void IFrameHandler.OnDisconnected(Connection connection, string reason)
    {
        if (connection.Peer.IsClient) Enqueue(new Inbound(InternalDisconnected, default, connection, default));
    }

    /// <summary>
    /// Queues an input and, when no thread is stepping the replica, steps it on this thread until the queue
    /// is empty (run to completion). A frame that arrives on an idle replica is handled on the socket thread
    /// that received it, with no wake-up of another thread: on two cores shared by eight processes every
    /// futex wake and context switch costs as much as the protocol work itself (measured: ~3 switches per
    /// message when a dedicated loop thread was woken for each one). The flusher runs it too, one wake-up
    /// fewer per fsync than handing its completion to the timer thread (2 × 4 defaults: 7.3–8.4k tx/s over
    /// four runs, against 7.2k with the hand-off).
    /// </summary>
    private void Enqueue(in Inbound item)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                item.Lease.Dispose();
                return;
            }
            _incoming.Add(item);
            if (_running || !_started) return;
            _running = true;
        }
        RunRounds();
    }

    // ------------------------------------------------------------------ the loop

    /// <summary>
    /// Steps the replica round after round while there is input or a tick is due, then gives up the right to
    /// step it. Only the thread that set <see cref="_running"/> (under the gate) calls this, so the state
    /// machines still see one input at a time, and the gate's lock orders each runner's writes before the next's.
    /// </summary>
    private void RunRounds()
    {
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_stopping || (_incoming.Count == 0 && _clock.ElapsedTicks < _nextTick))
                    {
                        _running = false;
                        _lastRoundEnded = _clock.ElapsedTicks;
                        if (_stopping) Monitor.PulseAll(_gate);   // the timer thread waits for the last runner before it ends
                        return;
                    }
                    (_incoming, _draining) = (_draining, _incoming);
                }
                RunRound();
            }
        }
        catch (Exception e)
        {
            // A broken invariant or a failed disk: stop this replica loudly rather than continue wrong.
            _logLine($"replica {_self} stopped on an error: {e}");
            lock (_gate)
            {
                _stopping = true;
                _running = false;
                Monitor.PulseAll(_gate);
            }
            _stopped.TrySetException(e);
        }
    }

    /// <summary>One round: every queued input, the ticks that are due, one group-commit flush request, then the round's sends.</summary>
    private void RunRound()
    {
        Volatile.Write(ref _queueDepth, _draining.Count);
        for (int i = 0; i < _draining.Count; i++)
        {
            var item = _draining[i];
            long started = Stopwatch.GetTimestamp();
            var gcPausedBefore = GC.GetTotalPauseDuration();
            try
            {
                Handle(item);
            }
            finally
            {
                item.Lease.Dispose();
            }
            ReportSlowStep(started, gcPausedBefore, item.Type);
        }
        _draining.Clear();
        // Logical time; after a long stall only a few ticks are caught up (timeouts are
        // lower bounds, and a burst of ticks would fire them all at once).
        long now = _clock.ElapsedTicks;
        int caughtUp = 0;
        if (!_linksReady) _linksReady = ShardLinksReady(_clock.Elapsed);
        while (_linksReady && now >= _nextTick && caughtUp++ < 4)
        {
            StepReplica(Input.Tick());
            _initiator.OnTick(_replica.IsPrimary, _ledger);
            RunInitiatorActions();
            _nextTick += _tickTicks;
        }
        if (now >= _nextTick) _nextTick = now + _tickTicks;
        FlushLog();
        FlushSends();
    }

    /// <summary>
    /// The timer thread: sleeps until the next tick and steps the
    /// replica then if no socket thread is doing so already. It also owns the end: after the stop it waits for
    /// the last runner and makes the last round's records durable.
    /// </summary>
    private void TimerLoop()
    {
        while (true)
        {
            lock (_gate)
            {
                while (!_stopping)
                {
                    long now = _clock.ElapsedTicks;
                    long stepAt = Math.Max(_nextTick, _lastRoundEnded + _timerQuietTicks);
                    if (!_running && (_incoming.Count > 0 || now >= stepAt)) break;
                    // Rounded up: waking before the tick is due would spin. While frames arrive, the socket threads'
                    // rounds step the due ticks (RunRound), so the timer steps in only once the replica has been
                    // quiet for a few ticks; while another thread runs the replica, it looks again that much later.
                    long due = _running ? _timerQuietTicks : stepAt - now;
                    long wait = (due * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency;
                    Monitor.Wait(_gate, (int)Math.Clamp(wait, 1, int.MaxValue));
                }
                if (_stopping)
                {
                    while (_running) Monitor.Wait(_gate);
                    _running = true;   // for good: no input is stepped after the stop
                    break;
                }
                _running = true;
            }
            RunRounds();
        }
        if (_stopped.Task.IsCompleted) return;   // failed: the runner reported it
        try
        {
            FlushLog();
        }
        catch (Exception e)
        {
            _logLine($"replica {_self} stopped on an error: {e}");
            _stopped.TrySetException(e);
            return;
        }
        _stopped.TrySetResult();
    }

    /// <summary>
    /// One input that held the event loop for long stalls every transaction in flight here: say so, with what it
    /// was and how far execution had got (checkpoints, whose snapshot is O(state), are the usual suspect).
    /// </summary>
    private void ReportSlowStep(long started, TimeSpan gcPausedBefore, byte frameType)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        if (elapsed < Stopwatch.Frequency / 20) return;   // 50 ms
        // The collector's pauses are process-wide, so this may include a collection triggered by another thread.
        var gcPaused = GC.GetTotalPauseDuration() - gcPausedBefore;
        _logLine($"replica {_self}: one step took {elapsed * 1000 / Stopwatch.Frequency} ms, {gcPaused.TotalMilliseconds:F0} ms of it paused by the GC (frame type {frameType}, executed {_replica.LastExecuted}, stable {_replica.StableSequence})");
    }

    /// <summary>
    /// Logical time starts once this replica can reach a quorum of its shard (or after a grace period).
    /// A replica that ticks while its links are still connecting sees no pre-prepares, times out its
    /// clients' requests and moves to the next view alone; PBFT lets it back only when its peers change
    /// view too, so at start-up and after a restart it would sit out until the next checkpoint.
    /// </summary>
    private bool ShardLinksReady(TimeSpan elapsed)
    {
        if (elapsed > StartupGrace) return true;
        int connected = 0;
        var row = _links[_self.Shard];
        for (int r = 0; r < row.Length; r++)
        {
            if (row[r] is { IsConnected: true }) connected++;
        }
        return connected >= _shard.Quorum - 1;   // with itself, a quorum
    }

    private static readonly TimeSpan StartupGrace = TimeSpan.FromSeconds(10);
    private bool _linksReady;

    private void Handle(in Inbound item)
    {
        var payload = item.Lease.Payload;
        switch (item.Type)
        {
            case FrameType.Consensus:
                if (item.From.Shard != _self.Shard) goto default;
                StepReplica(Input.Message(item.From.Replica, payload));
                break;
            case FrameType.Votes:
                _initiator.OnVotes(payload, item.From, _ledger, _replica.IsPrimary);
                RunInitiatorActions();
                break;
            case FrameType.Command:
                StepReplica(Input.ClientRequest(payload));
                break;
            case FrameType.FetchBody:
                if (payload.Length != Hash256.Size) goto default;
                if (_ledger.TryGetPendingBody(new Hash256(payload), out var body) && Hash256.Size + body.Length <= _scratch.Length)
                {
                    payload.CopyTo(_scratch);
                    body.CopyTo(_scratch.AsSpan(Hash256.Size));
                    SendPeer(item.From, FrameType.Body, _scratch.AsSpan(0, Hash256.Size + body.Length));
                }
                break;
            case FrameType.Body:
                if (payload.Length <= Hash256.Size) goto default;
                _initiator.OnBody(new Hash256(payload[..Hash256.Size]), payload[Hash256.Size..], _replica.IsPrimary);
                RunInitiatorActions();
                break;
            case FrameType.ClientHello:
                if (!ClientMessages.TryReadHello(payload, out ulong hello, out byte flags) || ClientIds.IsReplica(hello))
                {
                    RejectClient(item.Connection!, "malformed client hello");
                    break;
                }
                _clients[hello] = item.Connection!;
                if ((flags & ClientMessages.HelloWantsReceipts) != 0) _receiptClients.Add(hello);
                else _receiptClients.Remove(hello);
                break;
            case FrameType.ClientRequest:
                if (!Wire.TryReadRequest(payload, int.MaxValue, out var request) || ClientIds.IsReplica(request.Client))
                {
                    RejectClient(item.Connection!, "malformed client request");
                    break;
                }
                _clients[request.Client] = item.Connection!;
                StepReplica(Input.ClientRequest(payload));
                break;
            case FrameType.Query:
                AnswerQuery(item.Connection!, payload);
                break;
            case InternalDisconnected:
                ForgetClient(item.Connection!);
                break;
            case InternalDurable:
                OnDurable(item.Value);
                break;
            case InternalFlushFailed:
                throw new IOException($"replica {_self}: the log could not be flushed; stopping rather than vouching for state that may be lost", _flushFailure);
            default:
                _rejectedFrames++;
                break;
        }
    }

    private void RejectClient(Connection connection, string reason)
    {
        _rejectedFrames++;
        connection.Abort(reason);
    }

    private void ForgetClient(Connection connection)
    {
        foreach (var (client, c) in _clients)
        {
            if (!ReferenceEquals(c, connection)) continue;
            _clients.Remove(client);
            _receiptClients.Remove(client);
        }
    }

    private void OnBatchExecuted(ShardLedger ledger) => _initiator.OnBatchExecuted(ledger, _replica.IsPrimary);

    private void StepReplica(in Input input)
    {
        _replica.Step(input, _outbox);
        DrainOutbox();
        DrainApp();
        RunInitiatorActions();
    }

    private void DrainOutbox()
    {
        for (int i = 0; i < _outbox.Count; i++)
        {
            ref readonly var o = ref _outbox[i];
            var payload = _outbox.Payload(o);
            switch (o.Kind)
            {
                case OutputKind.Send:
                    SendPeer(new NodeId(_self.Shard, (ushort)o.To), FrameType.Consensus, payload);
                    break;
                case OutputKind.Broadcast:
                    BroadcastShard(payload);
                    break;
                case OutputKind.SendAfterPersist:
                case OutputKind.BroadcastAfterPersist:
                    int to = o.Kind == OutputKind.SendAfterPersist ? o.To : -1;
                    if (o.PersistId <= _durableId) SendConsensus(to, payload);
                    else Park(o.PersistId, to, payload);
                    break;
                case OutputKind.Persist:
                case OutputKind.PersistLazy:
                    _log?.Append(LogRecordType, o.PersistId, payload, _outbox.Tail(o));
                    _appendedId = Math.Max(_appendedId, o.PersistId);
                    if (o.Kind == OutputKind.Persist) _awaitedId = Math.Max(_awaitedId, o.PersistId);
                    else if (_lazySince == 0) _lazySince = _clock.ElapsedTicks;
                    break;
                case OutputKind.TruncateLog:
                    _log?.DeleteBefore(o.PersistId);
                    break;
                case OutputKind.Reply:
                    RouteReply(o.Client, payload);
                    break;
                case OutputKind.Delivered:
                    _batches++;
                    _requests += o.To;
                    break;
                case OutputKind.CheckpointStable:
                    _stableDigest = o.Digest;
                    break;
                case OutputKind.ViewInstalled:
                    _viewChanges++;
                    _logLine($"replica {_self}: view {o.Number} installed");
                    break;
                case OutputKind.StateTransferred:
                    _logLine($"replica {_self}: state transferred at {o.Number}");
                    break;
            }
        }
        _outbox.Clear();
    }

    private void DrainApp()
    {
        var app = _app.Outbox;
        for (int i = 0; i < app.Count; i++)
        {
            var o = app[i];
            if (o.Kind == SbacOutputKind.VotesToShard)
            {
                var payload = app.Payload(o);
                var target = _cluster.Shard((int)o.Shard);
                for (int r = 0; r < target.N; r++) SendPeerOrSelf(new NodeId((ushort)o.Shard, (ushort)r), FrameType.Votes, payload);
            }
            else if (o.Kind == SbacOutputKind.VotesToClient)
            {
                if (_clients.TryGetValue(o.Client, out var receiver)) SendDeferred(receiver, FrameType.ReceiptVotes, app.Payload(o));
            }
            else
            {
                if (o.Decision == Decision.Commit) _committed++;
                else _aborted++;
                if (_waiting.Remove(o.TransactionId, out ulong client) && _clients.TryGetValue(client, out var connection))
                {
                    ClientMessages.WriteDecision(_scratch, o.TransactionId, o.Decision);
                    SendDeferred(connection, FrameType.Decision, _scratch.AsSpan(0, ClientMessages.DecisionSize));
                }
            }
        }
        app.Clear();
    }

    private void RunInitiatorActions()
    {
        var actions = _initiator.Actions;
        for (int i = 0; i < actions.Count; i++)
        {
            var a = actions[i];
            if (a.Kind == InitiatorActionKind.SubmitCommand)
            {
                int length = Wire.WriteRequest(_scratch, _initiatorClient, ++_initiatorRequestNumber, _initiator.PayloadOf(a));
                int recipients = a.RecipientCount(_self.Shard, _cluster.Shard((int)a.Shard).N);
                for (int r = 0; r < recipients; r++) SendPeerOrSelf(new NodeId((ushort)a.Shard, (ushort)r), FrameType.Command, _scratch.AsSpan(0, length));
            }
            else
            {
                a.TransactionId.WriteTo(_scratch);
                SendPeer(a.Node, FrameType.FetchBody, _scratch.AsSpan(0, Hash256.Size));
            }
        }
        _initiator.ClearActions();
    }

    private void RouteReply(ulong client, ReadOnlySpan<byte> reply)
    {
        if (ClientIds.IsReplica(client)) return;   // an initiator's command: it learns the outcome from votes
        if (!_clients.TryGetValue(client, out var connection)) return;
        SendDeferred(connection, FrameType.Reply, reply);
        if (Wire.TryReadReply(reply, LedgerReply.Size, out var r) && LedgerReply.TryRead(r.Result, out var ledgerReply)
            && ledgerReply.Status is LedgerStatus.Voted or LedgerStatus.AlreadyVoted)
        {
            _waiting[ledgerReply.TransactionId] = client;   // tell it the decision when the Accept executes
        }
    }

    // ------------------------------------------------------------------ durability

    private void Park(ulong persistId, int to, ReadOnlySpan<byte> payload)
    {
        int offset = _parkedArena.WrittenCount;
        _parkedArena.Write(payload);
        _parked.Add(new Parked(persistId, to, offset, payload.Length));
    }

    /// <summary>
    /// Group commit at the end of a loop round. Without a flusher (no log, or fsync off) records count as
    /// durable at once. With one, the round's records are handed to it in one request and the loop goes on;
    /// <see cref="OnDurable"/> runs when the flush returns.
    /// </summary>
    private void FlushLog()
    {
        if (_flusher is not null)
        {
            bool lazyDue = _lazySince != 0 && _clock.ElapsedTicks - _lazySince >= Stopwatch.Frequency * LazyFlushMilliseconds / 1000;
            if (_appendedId > _flushRequested && (_awaitedId > _flushRequested || lazyDue))
            {
                _lazySince = 0;   // every record appended so far is in this request
                lock (_flushGate)
                {
                    Volatile.Write(ref _flushRequested, _appendedId);
                    Monitor.Pulse(_flushGate);
                }
            }
            return;
        }
        while (_appendedId > _durableId)
        {
            _logFlushes++;
            OnDurable(_appendedId);
        }
    }

    /// <summary>The flusher: one fsync for every request that came in while the previous one ran.</summary>
    private void FlushLoop()
    {
        ulong done = 0;
        try
        {
            while (true)
            {
                ulong target;
                lock (_flushGate)
                {
                    while (!_stopping && Volatile.Read(ref _flushRequested) <= done) Monitor.Wait(_flushGate);
                    if (_stopping) return;
                    target = Volatile.Read(ref _flushRequested);
                }
                // Every record up to target was appended before target was published: Flush covers it.
                _log!.Flush();
                done = target;
                Interlocked.Increment(ref _logFlushes);
                Enqueue(new Inbound(InternalDurable, default, null, default, target));
            }
        }
        catch (Exception e) when (e is IOException or LogFaultedException or ObjectDisposedException)
        {
            if (_stopping) return;
            _flushFailure = e;
            Enqueue(new Inbound(InternalFlushFailed, default, null, default));
        }
    }

    /// <summary>Records up to <paramref name="id"/> are durable: send what vouched for them, tell the replica.</summary>
    private void OnDurable(ulong id)
    {
        if (id <= _durableId) return;
        _durableId = id;
        var arena = _parkedArena.WrittenSpan;
        int kept = 0;
        _parkedSpare.ResetWrittenCount();
        for (int i = 0; i < _parked.Count; i++)
        {
            var p = _parked[i];
            var payload = arena.Slice(p.Offset, p.Length);
            if (p.PersistId <= id)
            {
                SendConsensus(p.To, payload);
                continue;
            }
            // Still waiting: moved to the spare arena, which becomes the arena (no growth without bound).
            int offset = _parkedSpare.WrittenCount;
            _parkedSpare.Write(payload);
            _parked[kept++] = p with { Offset = offset };
        }
        _parked.RemoveRange(kept, _parked.Count - kept);
        (_parkedArena, _parkedSpare) = (_parkedSpare, _parkedArena);
        StepReplica(Input.PersistCompleted(id));
    }

    // ------------------------------------------------------------------ sending

    private void SendConsensus(int to, ReadOnlySpan<byte> payload)
    {
        if (to < 0) BroadcastShard(payload);
        else SendPeer(new NodeId(_self.Shard, (ushort)to), FrameType.Consensus, payload);
    }

    private void BroadcastShard(ReadOnlySpan<byte> payload)
    {
        for (int r = 0; r < _shard.N; r++)
        {
            if (r != _self.Replica) SendPeer(new NodeId(_self.Shard, (ushort)r), FrameType.Consensus, payload);
        }
    }

    private void SendPeerOrSelf(NodeId to, byte type, ReadOnlySpan<byte> payload)
    {
        if (to == _self)
        {
            // To itself through its own queue, so it is handled like any other input and in order.
            var block = _transport.Pool.RentBlock(Math.Max(payload.Length, 1));
            payload.CopyTo(block.Span);
            lock (_gate) _incoming.Add(new Inbound(type, _self, null, new FrameLease(type, block, payload.Length)));
            return;
        }
        SendPeer(to, type, payload);
    }

    private void SendPeer(NodeId to, byte type, ReadOnlySpan<byte> payload)
    {
        if (to.Shard >= _links.Length || to.Replica >= _links[to.Shard].Length) return;
        var connection = _links[to.Shard][to.Replica]?.Current;
        if (connection is null || SendDeferred(connection, type, payload) != SendStatus.Queued) _sendDrops++;   // the protocols retransmit
    }

    /// <summary>
    /// Every send of a round is deferred to its end (<see cref="FlushSends"/>): one syscall per connection per
    /// round, made on the runner's thread, instead of a send-loop wake-up per frame.
    /// </summary>
    private SendStatus SendDeferred(Connection connection, byte type, ReadOnlySpan<byte> payload)
    {
        var status = connection.TrySendDeferred(type, payload);
        if (status == SendStatus.Queued && !_unflushedConnections.Contains(connection)) _unflushedConnections.Add(connection);
        return status;
    }

    private void FlushSends()
    {
        for (int i = 0; i < _unflushedConnections.Count; i++) _unflushedConnections[i].FlushDeferred();
        _unflushedConnections.Clear();
    }

    private readonly List<Connection> _unflushedConnections = new(64);

    // ------------------------------------------------------------------ queries and stats

    private void AnswerQuery(Connection connection, ReadOnlySpan<byte> payload)
    {
        Span<byte> result = stackalloc byte[ClientMessages.QueryResultSizeMax];
        if (!ClientMessages.TryReadQuery(payload, out ulong queryId, out var kind, out var objectId))
        {
            RejectClient(connection, "malformed query");
            return;
        }
        int length = kind == QueryKind.ObjectState
            ? ClientMessages.WriteObjectStateResult(result, queryId, _ledger.Objects.GetState(objectId))
            : ClientMessages.WriteStatsResult(result, queryId, Stats());
        SendDeferred(connection, FrameType.QueryResult, result[..length]);
    }

    internal NodeStats Stats() => new(
        _replica.View, _replica.ViewActive, _replica.IsPrimary, _replica.LastExecuted, _replica.StableSequence, _stableDigest,
        Volatile.Read(ref _committed), Volatile.Read(ref _aborted), Volatile.Read(ref _batches), Volatile.Read(ref _requests),
        Volatile.Read(ref _viewChanges), Volatile.Read(ref _logFlushes), GC.GetTotalAllocatedBytes(false),
        (long)Environment.CpuUsage.TotalTime.TotalMilliseconds, Volatile.Read(ref _queueDepth), Volatile.Read(ref _rejectedFrames));

    internal long SendDrops => Volatile.Read(ref _sendDrops);
}
