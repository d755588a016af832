using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Validation;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;

namespace Chainspace.Simulation;

/// <summary>
/// The multi-shard simulator's driver for one replica of one shard, doing what a node does: the real PBFT
/// <see cref="Replica"/> over the real <see cref="SbacStateMachine"/> (ledger, object store, vote signer),
/// plus the replica's volatile <see cref="SbacInitiator"/>. It persists records to a <see cref="SimDisk"/>,
/// holds SendAfterPersist messages until durable, sends vote batches to every replica of each concerned
/// shard, turns initiator actions into requests and body fetches, and on a crash loses everything volatile
/// and recovers from the disk. Byzantine hosts add <see cref="Byzantine"/> (PBFT) and <see cref="SbacAttack"/>s.
/// </summary>
public sealed class SbacHost : DurableHost, IByzantineHost
{
    private readonly MultiShardSimulator _sim;
    private readonly Byzantine? _byzantine;
    private readonly SbacAttacker? _attacker;
    private ulong _requests;

    public SbacHost(MultiShardSimulator sim, int shard, int index, IReplicaSigner signer, IReplicaSigner voteSigner)
    {
        _sim = sim;
        Shard = shard;
        Index = index;
        Node = new NodeId((ushort)shard, (ushort)index);
        Signer = signer;
        VoteKey = voteSigner;
        Mode = sim.Options.Byzantine[shard][index];
        Attack = sim.Options.Attacks[shard][index];
        Context = ShardContext.From(sim.Config, (ushort)shard);
        if (Mode != ByzantineMode.None) _byzantine = new Byzantine(this, Mode, sim.Random.Fork());
        if (Attack != SbacAttack.None) _attacker = new SbacAttacker(sim, this, Attack, sim.Random.Fork());
        Start(recover: false);
    }

    public int Shard { get; }
    public int Index { get; }
    public NodeId Node { get; }
    public IReplicaSigner Signer { get; }
    public IReplicaSigner VoteKey { get; }
    public ByzantineMode Mode { get; }
    public SbacAttack Attack { get; }
    public bool Honest => Mode == ByzantineMode.None && Attack == SbacAttack.None;
    public ShardContext Context { get; }
    public ReplicaOptions ReplicaOptions => _sim.Options.Replica;
    public SbacStateMachine App { get; private set; } = null!;
    public ShardLedger Ledger => App.Ledger;
    public SbacInitiator Initiator { get; private set; } = null!;
    private bool Silent => Mode.HasFlag(ByzantineMode.Silent);

    private void Start(bool recover)
    {
        var store = new ObjectStore(1024);
        var genesis = _sim.Universe.Genesis.Where(o => _sim.Config.ShardMap.ShardOf(o.Id) == Shard).Select(o => o.Id).ToArray();
        Invariant.Check(store.Create(genesis) == StoreResult.Ok);
        var ledger = new ShardLedger(new ShardLedgerOptions
        {
            Shard = (ushort)Shard,
            Map = _sim.Config.ShardMap,
            Contracts = new ContractRegistry(Dummy.Instance, CsCoin.Instance),
            TransactionsCapacity = 256,
            BatchVotesMax = 1024,
            PlantedBugs = _sim.Options.Bugs,
        }, store, _sim.Verifier);
        App = new SbacStateMachine(ledger, new VoteSigner(_sim.Config, Node, VoteKey, 1024), new SbacOutbox());
        Initiator = new SbacInitiator(_sim.Config, Node, _sim.Verifier, _sim.Options.Initiator);
        Replica = new Replica(Context, Index, Signer, new Observed(this), _sim.Options.Replica);
        BeginIncarnation();
        if (!recover) return;
        foreach (var record in Disk.Recover()) Replica.Recover(record);
        LastDelivered = Replica.LastExecuted;
        Outbox.Clear();
        Replica.CompleteRecovery(Outbox);
        Drain();
        DrainSbac();
    }

    public void Crash()
    {
        if (!Up) return;
        CrashVolatile(_sim.Random);
        _sim.Trace($"crash s{Shard}r{Index} (disk keeps {Disk.RecordCount} records)");
    }

    public void Restart()
    {
        if (Up) return;
        Start(recover: true);
        _sim.Trace($"restart s{Shard}r{Index}: view {Replica.View} executed {Replica.LastExecuted}");
    }

    // ------------------------------------------------------------ inputs

    public void DeliverPbft(int from, byte[] message)
    {
        if (!Up || Silent) return;
        _byzantine?.Observe(message);
        Step(Input.Message(from, message));
    }

    public void DeliverRequest(byte[] message)
    {
        if (!Up || Silent) return;
        _attacker?.ObserveRequest(message);
        Step(Input.ClientRequest(message));
    }

    public void DeliverVotes(NodeId from, byte[] message)
    {
        if (!Up || Silent) return;
        _attacker?.ObserveVotes(from, message);
        Initiator.OnVotes(message, from, Ledger, Replica.IsPrimary);
        Act();
    }

    public void DeliverFetch(NodeId from, Hash256 txId)
    {
        if (!Up || Silent) return;
        if (_attacker is not null && _attacker.AnswerFetch(from, txId)) return;
        if (Ledger.TryGetPendingBody(txId, out var body)) _sim.SendBody(Node, from, txId, body.ToArray());
    }

    public void DeliverBody(Hash256 txId, byte[] body)
    {
        if (!Up || Silent) return;
        Initiator.OnBody(txId, body, Replica.IsPrimary);
        Act();
    }

    public void Tick()
    {
        if (!Up || Silent) return;
        Step(Input.Tick());
        Initiator.OnTick(Replica.IsPrimary, Ledger);
        Act();
        _byzantine?.OnTick();
        _attacker?.OnTick();
    }

    protected override void Step(in Input input)
    {
        Outbox.Clear();
        try
        {
            Replica.Step(input, Outbox);
        }
        catch (InvariantViolationException e)
        {
            _sim.Fail($"s{Shard}r{Index} broke an invariant: {e.Message}");
        }
        Drain();
        DrainSbac();
        if (Honest) _sim.Checker.AfterStep(this);
    }

    // ------------------------------------------------------------ outputs

    /// <summary>Called by the replica (through <see cref="Observed"/>) after each executed batch.</summary>
    private void OnBatchExecuted(ulong sequence)
    {
        if (Honest) _sim.Checker.OnBatch(this, sequence);
        _attacker?.OnBatch(sequence);
        Initiator.OnBatchExecuted(Ledger, Replica.IsPrimary);
        Act();
    }

    private void Act()
    {
        var actions = Initiator.Actions;
        for (int i = 0; i < actions.Count; i++)
        {
            var a = actions[i];
            if (a.Kind == InitiatorActionKind.SubmitCommand) Submit((int)a.Shard, a.Payload!, a.RecipientCount((uint)Shard, _sim.Options.Replicas));
            else _sim.SendFetch(Node, a.Node, a.TransactionId);
        }
        Initiator.ClearActions();
    }

    /// <summary>Sends an S-BAC command as this replica's own request to the first <paramref name="recipients"/> replicas
    /// of <paramref name="shard"/> (all by default), as a node does. Request numbers start above any used by an earlier incarnation.</summary>
    public void Submit(int shard, byte[] operation, int recipients = int.MaxValue)
    {
        ulong number = ((ulong)Incarnation << 40) | ++_requests;
        var message = TxClient.Request(ClientIds.ForReplica(Node), number, operation);
        for (int r = 0; r < Math.Min(recipients, _sim.Options.Replicas); r++) _sim.SendRequestFromReplica(Node, shard, r, message);
    }

    protected override void ScheduleFlush() => _sim.ScheduleFlush(this);

    protected override void OnOutput(in Output o, ReadOnlySpan<byte> payload)
    {
        switch (o.Kind)
        {
            case OutputKind.Reply:
                if (!ClientIds.IsReplica(o.Client)) _sim.SendReply(Node, o.Client, payload.ToArray());
                break;
            case OutputKind.Delivered:
                if (Honest) _sim.Checker.OnDelivered(this, o.Number, o.Digest);
                break;
            case OutputKind.StateTransferred:
                LastDelivered = o.Number;
                _sim.Trace($"s{Shard}r{Index} state transfer to {o.Number}");
                break;
        }
    }

    private void DrainSbac()
    {
        var sbac = App.Outbox;
        for (int i = 0; i < sbac.Count; i++)
        {
            var o = sbac[i];
            if (o.Kind != SbacOutputKind.VotesToShard) continue;
            var message = sbac.Payload(o).ToArray();
            for (int r = 0; r < _sim.Options.Replicas; r++)
            {
                var actual = _attacker is null ? message : _attacker.RewriteVotes(o.Shard, r, message);
                _sim.SendVotes(Node, (int)o.Shard, r, actual);
            }
        }
        sbac.Clear();
    }

    protected override void Transmit(int to, byte[] message)
    {
        for (int dest = 0; dest < _sim.Options.Replicas; dest++)
        {
            if (dest == Index || (to >= 0 && dest != to)) continue;
            var actual = _byzantine is null ? message : _byzantine.Rewrite(dest, message);
            if (actual is not null) _sim.SendPbft(Shard, Index, dest, actual);
        }
    }

    public void SendRaw(int to, byte[] message) => _sim.SendPbft(Shard, Index, to, message);

    /// <summary>The S-BAC state machine as the replica sees it, with a hook after each batch (the initiator
    /// and the checker need every batch's votes, and a step can execute several batches).</summary>
    private sealed class Observed(SbacHost host) : IReplicatedStateMachine
    {
        public void BeginBatch(ulong sequence) => host.App.BeginBatch(sequence);

        public void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply)
        {
            int votes = host.Ledger.BatchVotes.Length, decisions = host.Ledger.BatchDecisions.Length;
            host.App.Execute(sequence, client, requestNumber, operation, reply);
            if (host.Index == 0 && host._sim.Tracing && SbacCommand.TryDecode(operation, Core.Codec.CodecLimits.Default, out var c, out _)) TraceCommand(c, client);
            if (host.Honest) host._sim.Checker.OnCommand(host, sequence, votes, decisions);
        }

        private void TraceCommand(in SbacCommand c, ulong client)
        {
            if (c.Kind == SbacCommandKind.Accept)
            {
                host.Ledger.TryGetTransaction(c.TransactionId, out var v, out var f);
                host._sim.Trace($"s{host.Shard} executes Accept({c.TransactionId.ToShortString()}, {c.Decision}, {c.ProofCount} proofs) from {client:x}: vote {v} final {f}");
            }
            else if (c.Kind == SbacCommandKind.Create)
            {
                host._sim.Trace($"s{host.Shard} executes Create({TraceCreate(c.Transaction)}, {c.ProofCount} proofs) from {client:x}");
            }
            else if (c.Kind == SbacCommandKind.Creates)
            {
                var sb = new System.Text.StringBuilder();
                var entries = c.EnumerateCreates();
                while (entries.MoveNext()) sb.Append(' ').Append(TraceCreate(entries.Transaction));
                host._sim.Trace($"s{host.Shard} executes Creates({c.EntryCount}:{sb}) from {client:x}");
            }
        }

        /// <summary>A Create's transaction id and this shard's decision on it, for the trace.</summary>
        private string TraceCreate(ReadOnlySpan<byte> body)
        {
            var parsed = new ParsedTransaction(Core.Codec.CodecLimits.Default);
            if (!parsed.TryParse(body, out _)) return "malformed";
            var id = parsed.ComputeIds(body);
            host.Ledger.TryGetTransaction(id, out _, out var f);
            return $"{id.ToShortString()}={f?.ToString() ?? "undecided"}";
        }

        public void EndBatch(ulong sequence)
        {
            host.App.EndBatch(sequence);
            host.OnBatchExecuted(sequence);
        }

        public Hash256 StateDigest(ulong sequence) => host.App.StateDigest(sequence);
        public void WriteSnapshot(IBufferWriter<byte> destination) => host.App.WriteSnapshot(destination);
        public Hash256 WriteCheckpoint(ulong sequence, IBufferWriter<byte> snapshot) => host.App.WriteCheckpoint(sequence, snapshot);
        public void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence)
        {
            host.App.RestoreSnapshot(snapshot, sequence);
            host._sim.Trace($"s{host.Shard}r{host.Index} restores a snapshot at {sequence} ({host.Ledger.Objects.LockingTransactions} locking transactions)");
        }
    }
}
