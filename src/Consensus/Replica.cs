using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;

namespace Chainspace.Consensus;

/// <summary>
/// A PBFT replica (Castro and Liskov, with signatures) over batches, as a sans-I/O state machine. It takes
/// one input at a time through <see cref="Step"/> and writes what the driver must do into an
/// <see cref="Outbox"/>; it owns no thread, clock, socket or file. Split by phase: this file holds state,
/// dispatch and helpers; NormalCase, Checkpoint, ViewChange, StateTransfer, Status and Recovery the rest.
/// </summary>
public sealed partial class Replica
{
    private const int Sig = IReplicaSigner.SignatureSize;

    private readonly ShardContext _ctx;
    private readonly int _n;
    private readonly int _f;
    private readonly int _self;
    private readonly IReplicaSigner _signer;
    private readonly IReplicatedStateMachine _app;
    private readonly ReplicaOptions _o;
    private readonly PlantedBug _bugs;
    private readonly ulong _window;

    private readonly Slot[] _slots;
    private readonly RequestQueue _queue;
    private readonly HashSet<RequestKey> _inFlight;
    private ClientTable _clients;
    private readonly ArrayBufferWriter<byte> _reply = new(1024);
    private readonly byte[] _batchScratch;
    private readonly byte[] _certificateScratch;
    private readonly ulong[] _peerExecuted;         // per peer, the last executed sequence its status reported   // n commit signatures of a CommittedBatch being sent or checked
    // A slot filled from a commit certificate has no pre-prepare signature of its own; it is never resent as a pre-prepare.
    private static readonly byte[] NoPrePrepareSignature = new byte[IReplicaSigner.SignatureSize];
    private readonly Hash256 _nullDigest;
    private readonly Hash256 _genesisDigest;
    private readonly long[] _rejected = new long[Enum.GetValues<RejectReason>().Length];

    private long _now;
    private ulong _view;
    private bool _viewActive = true;
    private long _viewStartTick;
    private ulong _lastExecuted;
    private ulong _nextSequence = 1;
    private long _lastProgressTick;
    private ulong _nextPersistId = 1;
    private ulong _durablePersistId;
    private readonly Queue<PendingVote> _pendingOwnVotes = new();
    private ulong _viewSeen; // for the views-never-decrease invariant

    private readonly struct PendingVote(ulong persistId, ulong sequence, ulong view, bool commit)
    {
        public readonly ulong PersistId = persistId;
        public readonly ulong Sequence = sequence;
        public readonly ulong View = view;
        public readonly bool Commit = commit;
    }

    public Replica(ClusterConfig cluster, NodeId self, IReplicaSigner signer, IReplicatedStateMachine app, ReplicaOptions options)
        : this(ShardContext.From(cluster, self.Shard), self.Replica, signer, app, options)
    {
    }

    /// <param name="app">The application in its initial state; after a crash, feed the log to
    /// <see cref="Recover"/> and call <see cref="CompleteRecovery"/> before the first Step.</param>
    public Replica(ShardContext context, int self, IReplicaSigner signer, IReplicatedStateMachine app, ReplicaOptions options)
    {
        if (context.N < 4 || context.N % 3 != 1) throw new ArgumentException("n must be 3f+1 with f >= 1", nameof(context));
        if ((uint)self >= (uint)context.N) throw new ArgumentOutOfRangeException(nameof(self));
        _ctx = context;
        _n = context.N;
        _f = context.F;
        _self = self;
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        _app = app ?? throw new ArgumentNullException(nameof(app));
        _o = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _bugs = _o.PlantedBugs;
        _window = (ulong)_o.WatermarkWindow;
        _slots = new Slot[_o.WatermarkWindow];
        var bodies = new SlotBodyArena();
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new Slot(_n, bodies);
        _queue = new RequestQueue(_o.PendingRequestsMax);
        _inFlight = new HashSet<RequestKey>(_o.BatchRequestsMax * _o.PipelineDepth);
        _clients = new ClientTable(_o.ClientWindow);
        _batchScratch = new byte[_o.BatchBytesMax + 16];
        _certificateScratch = new byte[_n * IReplicaSigner.SignatureSize];
        _peerExecuted = new ulong[_n];
        _viewChanges = new ViewChangeMessage?[_n];
        _checkpointVotePool = new Stack<CheckpointVotes>();
        _viewChangeTimeout = _o.ViewChangeTimeoutTicks;

        Span<byte> emptyBatch = [0];
        _nullDigest = Wire.BatchDigest(emptyBatch);
        var table = new ArrayBufferWriter<byte>();
        _clients.Write(table);
        _genesisDigest = StateMessages.CheckpointDigest(0, _app.StateDigest(0), ClientTable.Digest(table.WrittenSpan));
        _stable = CheckpointCertificate.Genesis(_genesisDigest);
    }

    public int Self => _self;
    public int N => _n;
    public ulong View => _view;
    public bool ViewActive => _viewActive;
    public int Primary => _ctx.Primary(_view);
    public bool IsPrimary => Primary == _self;
    public ulong LastExecuted => _lastExecuted;
    public ulong StableSequence => _stable.Sequence;
    public Hash256 StableDigest => _stable.Digest;
    public Hash256 GenesisDigest => _genesisDigest;
    public long Now => _now;
    public int QueuedRequests => _queue.Count;
    /// <summary>Checkpoints where 2f+1 replicas outvoted this replica's own digest (must stay 0 when honest).</summary>
    public long StateDivergences { get; private set; }
    public long Rejected(RejectReason reason) => _rejected[(int)reason];

    /// <summary>Matching votes that arrived after their certificate was complete, ignored unverified (not rejections).</summary>
    public long SurplusVotes { get; private set; }

    public long TotalRejected
    {
        get
        {
            long sum = 0;
            foreach (long r in _rejected) sum += r;
            return sum;
        }
    }

    /// <summary>The only state-changing method: consumes one input, appends outputs to <paramref name="outbox"/>.</summary>
    public void Step(in Input input, Outbox outbox)
    {
        if (_recoveredSlotRecords is not null) CloseRecovery();
        switch (input.Kind)
        {
            case InputKind.Message:
                OnMessage(input.From, input.Payload, outbox);
                break;
            case InputKind.ClientRequest:
                OnRequest(input.Payload, fromClient: true, outbox);
                break;
            case InputKind.Tick:
                OnTick(outbox);
                break;
            case InputKind.PersistCompleted:
                OnPersistCompleted(input.PersistId, outbox);
                break;
            default:
                Invariant.Fail("unknown input kind");
                break;
        }
        CheckInvariants();
    }

    private void OnMessage(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if ((uint)from >= (uint)_n)
        {
            Reject(RejectReason.UnknownSender);
            return;
        }
        if (!Wire.TryPeekType(message, out var type))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        switch (type)
        {
            case MessageType.Request: OnRequest(message, fromClient: false, outbox); break;
            case MessageType.PrePrepare: OnPrePrepare(message, outbox); break;
            case MessageType.Prepare: OnPrepare(message, outbox); break;
            case MessageType.Commit: OnCommit(message, outbox); break;
            case MessageType.Checkpoint: OnCheckpoint(message, outbox); break;
            case MessageType.ViewChange: OnViewChange(message, outbox); break;
            case MessageType.NewView: OnNewView(message, outbox); break;
            case MessageType.Status: OnStatus(from, message, outbox); break;
            case MessageType.CheckpointProof: OnCheckpointProof(message, outbox); break;
            case MessageType.FetchState: OnFetchState(from, message, outbox); break;
            case MessageType.StateSnapshot: OnStateSnapshot(from, message, outbox); break;
            case MessageType.FetchBatch: OnFetchBatch(from, message, outbox); break;
            case MessageType.BatchBody: OnBatchBody(message, outbox); break;
            case MessageType.CommittedBatch: OnCommittedBatch(message, outbox); break;
            default: Reject(RejectReason.Malformed); break; // replies go to clients, never to replicas
        }
    }

    private void OnTick(Outbox outbox)
    {
        _now++;
        if (IsPrimary) TryCutBatches(outbox);
        OnRequestTimeout(outbox);
        OnViewChangeTimeout(outbox);
        if (_now % _o.StatusIntervalTicks == 0) OnStatusTimeout(outbox);
        OnStateTransferTimeout(outbox);
    }

    /// <summary>Records up to <paramref name="persistId"/> are durable: own votes parked on them now count.</summary>
    private void OnPersistCompleted(ulong persistId, Outbox outbox)
    {
        if (persistId <= _durablePersistId) return;
        Invariant.Check(persistId < _nextPersistId);
        _durablePersistId = persistId;
        while (_pendingOwnVotes.Count > 0 && _pendingOwnVotes.Peek().PersistId <= persistId)
        {
            var vote = _pendingOwnVotes.Dequeue();
            var slot = _slots[vote.Sequence % _window];
            if (slot.Sequence != vote.Sequence || slot.View != vote.View || !slot.HasPrePrepare) continue;
            if (vote.Commit)
            {
                slot.Commits.Set(_self, slot.View, slot.Digest, slot.OwnCommitSignature);
                CheckCommitted(slot, outbox);
            }
            else
            {
                slot.Prepares.Set(_self, slot.View, slot.Digest, slot.OwnPrepareSignature);
                CheckPrepared(slot, outbox);
            }
        }
        OnStableRecordDurable(outbox);
        TryExecute(outbox);
    }

    // ---- helpers ----

    private void Reject(RejectReason reason) => _rejected[(int)reason]++;

    private bool InWindow(ulong sequence) => sequence > _stable.Sequence && sequence <= _stable.Sequence + _window;

    /// <summary>The slot for a sequence inside the watermark window, reset if it still holds an older one.</summary>
    private Slot SlotFor(ulong sequence)
    {
        Invariant.Check(InWindow(sequence));
        var slot = _slots[sequence % _window];
        if (slot.Sequence != sequence) slot.Reset(sequence);
        return slot;
    }

    private ulong NextPersistId() => _nextPersistId++;

    private void SendVote(Outbox outbox, MessageType type, Slot slot, ReadOnlySpan<byte> signature, OutputKind kind, int to, ulong persistId)
    {
        var span = outbox.Reserve(Wire.VoteLengthMax);
        int length = Wire.WriteVote(span, type, slot.View, slot.Sequence, slot.Digest, _self, signature);
        outbox.Commit(kind, to, persistId, 0, 0, Hash256.Zero, length);
    }

    private void SendPrePrepare(Outbox outbox, Slot slot, OutputKind kind, int to, ulong persistId)
    {
        var span = outbox.Reserve(Wire.PrePrepareLengthMax(slot.BodyLength));
        int length = Wire.WritePrePrepare(span, slot.View, slot.Sequence, slot.Digest, _ctx.Primary(slot.View),
            slot.PrePrepareSignature, slot.BodySpan);
        outbox.Commit(kind, to, persistId, 0, 0, Hash256.Zero, length);
    }

    /// <summary>Always-on consistency checks, run at the end of every Step.</summary>
    public void CheckInvariants()
    {
        Invariant.Check(_view >= _viewSeen);
        _viewSeen = _view;
        Invariant.Check(_durablePersistId < _nextPersistId);
        Invariant.Check(_lastExecuted <= _stable.Sequence + _window);
        Invariant.Check(_nextSequence <= _stable.Sequence + _window + 1 || !IsPrimary);
        Invariant.Check(_viewChangeDeadline == 0 || !_viewActive);
    }
}
