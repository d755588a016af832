using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>
/// The simulator's driver for one replica, doing what a node's event loop does: steps the replica, drains
/// its outbox in order (records to the disk, messages to the network, replies to clients), holds every
/// SendAfterPersist until its record is durable, and on a crash throws away the replica, its volatile
/// state and its parked messages, then restarts it from what the disk kept.
/// </summary>
public sealed class ReplicaHost : IByzantineHost
{
    private readonly Simulator _sim;
    private readonly Outbox _outbox = new();
    private readonly List<(ulong PersistId, int To, byte[] Message)> _parked = new();
    private readonly Byzantine? _byzantine;

    public ReplicaHost(Simulator sim, int index, IReplicaSigner signer, ByzantineMode mode)
    {
        _sim = sim;
        Index = index;
        Signer = signer;
        Mode = mode;
        if (mode != ByzantineMode.None) _byzantine = new Byzantine(this, mode, sim.Random.Fork());
        Start(recover: false);
    }

    public int Index { get; }
    public IReplicaSigner Signer { get; }
    public ByzantineMode Mode { get; }
    public bool Honest => Mode == ByzantineMode.None;
    public Replica Replica { get; private set; } = null!;
    public LedgerApp App { get; private set; } = null!;
    public SimDisk Disk { get; } = new();
    public bool Up { get; private set; }
    public int Incarnation { get; private set; }
    public bool FlushScheduled { get; set; }
    /// <summary>Highest view of any vote this replica actually sent: a restart must not go below it.</summary>
    public ulong MaxViewSent { get; private set; }
    /// <summary>Highest sequence delivered in order (reset by state transfer and restart).</summary>
    public ulong LastDelivered { get; set; }
    public ulong LastViewSeen { get; set; }

    private void Start(bool recover)
    {
        App = new LedgerApp();
        int index = Index;
        App.BatchExecuted = (seq, content) => _sim.Checker.OnBatchExecuted(this, seq, content);
        Replica = new Replica(_sim.Context, index, Signer, App, _sim.Options.Replica);
        Up = true;
        Incarnation++;
        FlushScheduled = false;
        if (!recover) return;
        foreach (var record in Disk.Recover()) Replica.Recover(record);
        LastDelivered = Replica.LastExecuted;
        LastViewSeen = Replica.View;
        _outbox.Clear();
        Replica.CompleteRecovery(_outbox);
        _sim.Checker.AfterRestart(this);
        Drain();
    }

    public void Crash()
    {
        if (!Up) return;
        Up = false;
        _parked.Clear();
        Disk.Crash(_sim.Random);
        _sim.Trace($"crash r{Index} (disk keeps {Disk.RecordCount} records, durable {Disk.DurableId})");
    }

    public void Restart()
    {
        if (Up) return;
        Start(recover: true);
        _sim.Trace($"restart r{Index}: view {Replica.View} executed {Replica.LastExecuted} stable {Replica.StableSequence}");
    }

    public void Deliver(int from, byte[] message)
    {
        if (!Up || Mode.HasFlag(ByzantineMode.Silent)) return;
        _byzantine?.Observe(message);
        Step(Input.Message(from, message));
    }

    public void DeliverRequest(byte[] message)
    {
        if (!Up || Mode.HasFlag(ByzantineMode.Silent)) return;
        Step(Input.ClientRequest(message));
    }

    public void Tick()
    {
        if (!Up || Mode.HasFlag(ByzantineMode.Silent)) return;
        Step(Input.Tick());
        _byzantine?.OnTick();
    }

    public void FlushCompleted(ulong persistId, int incarnation)
    {
        if (!Up || incarnation != Incarnation) return;
        FlushScheduled = false;
        Disk.FlushTo(persistId);
        for (int i = 0; i < _parked.Count; i++)
        {
            var (id, to, message) = _parked[i];
            if (id > Disk.DurableId) continue;
            Transmit(to, message);
            _parked.RemoveAt(i--);
        }
        Step(Input.PersistCompleted(Disk.DurableId));
        if (Disk.AppendedId > Disk.DurableId) _sim.ScheduleFlush(this);
    }

    private void Step(in Input input)
    {
        _outbox.Clear();
        Replica.Step(input, _outbox);
        Drain();
        _sim.Checker.AfterStep(this);
    }

    private void Drain()
    {
        for (int i = 0; i < _outbox.Count; i++)
        {
            ref readonly var o = ref _outbox[i];
            var payload = _outbox.Payload(o);
            switch (o.Kind)
            {
                case OutputKind.Send:
                case OutputKind.Broadcast:
                    Transmit(o.Kind == OutputKind.Send ? o.To : -1, payload.ToArray());
                    break;
                case OutputKind.SendAfterPersist:
                case OutputKind.BroadcastAfterPersist:
                    int to = o.Kind == OutputKind.SendAfterPersist ? o.To : -1;
                    if (o.PersistId <= Disk.DurableId) Transmit(to, payload.ToArray());
                    else _parked.Add((o.PersistId, to, payload.ToArray()));
                    break;
                case OutputKind.Persist:
                    Disk.Append(o.PersistId, payload);
                    if (!FlushScheduled) _sim.ScheduleFlush(this);
                    break;
                case OutputKind.TruncateLog:
                    Disk.Truncate(o.PersistId);
                    break;
                case OutputKind.Reply:
                    _sim.SendReply(Index, o.Client, payload.ToArray());
                    break;
                case OutputKind.Delivered:
                    _sim.Checker.OnDelivered(this, o.Number, o.Digest);
                    break;
                case OutputKind.CheckpointStable:
                    _sim.Checker.OnCheckpointStable(this, o.Number, o.Digest);
                    break;
                case OutputKind.StateTransferred:
                    LastDelivered = o.Number;
                    _sim.Trace($"r{Index} state transfer to {o.Number}");
                    break;
                case OutputKind.ViewInstalled:
                    _sim.Trace($"r{Index} view {o.Number} installed");
                    break;
            }
        }
        _outbox.Clear();
    }

    /// <summary>Sends (to = -1: to every other replica), letting a Byzantine replica rewrite what it sends.</summary>
    private void Transmit(int to, byte[] message)
    {
        NoteSentView(message);
        for (int dest = 0; dest < _sim.Options.Replicas; dest++)
        {
            if (dest == Index || (to >= 0 && dest != to)) continue;
            var actual = _byzantine is null ? message : _byzantine.Rewrite(dest, message);
            if (actual is not null) _sim.SendToReplica(Index, dest, actual);
        }
    }

    private void NoteSentView(byte[] message)
    {
        if (!Wire.TryPeekType(message, out var type)) return;
        if (type is MessageType.Prepare or MessageType.Commit && Wire.TryReadVote(message, type, out var vote) && vote.Signer == Index)
        {
            MaxViewSent = Math.Max(MaxViewSent, vote.View);
        }
        else if (type == MessageType.PrePrepare && Wire.TryReadPrePrepare(message, int.MaxValue, out var pp) && pp.Signer == Index)
        {
            MaxViewSent = Math.Max(MaxViewSent, pp.View);
        }
    }

    public ShardContext Context => _sim.Context;
    public ReplicaOptions ReplicaOptions => _sim.Options.Replica;
    public void SendRaw(int to, byte[] message) => _sim.SendToReplica(Index, to, message);
}
