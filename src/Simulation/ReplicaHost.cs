using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>
/// The simulator's driver for one replica, doing what a node's event loop does: steps the replica, drains
/// its outbox in order (records to the disk, messages to the network, replies to clients), holds every
/// SendAfterPersist until its record is durable, and on a crash throws away the replica, its volatile
/// state and its parked messages, then restarts it from what the disk kept.
/// </summary>
public sealed class ReplicaHost : DurableHost, IByzantineHost
{
    private readonly Simulator _sim;
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
    public LedgerApp App { get; private set; } = null!;
    /// <summary>Highest view of any vote this replica actually sent: a restart must not go below it.</summary>
    public ulong MaxViewSent { get; private set; }
    public ulong LastViewSeen { get; set; }

    private void Start(bool recover)
    {
        App = new LedgerApp();
        int index = Index;
        App.BatchExecuted = (seq, content) => _sim.Checker.OnBatchExecuted(this, seq, content);
        Replica = new Replica(_sim.Context, index, Signer, App, _sim.Options.Replica);
        BeginIncarnation();
        if (!recover) return;
        foreach (var record in Disk.Recover()) Replica.Recover(record);
        LastDelivered = Replica.LastExecuted;
        LastViewSeen = Replica.View;
        Outbox.Clear();
        Replica.CompleteRecovery(Outbox);
        _sim.Checker.AfterRestart(this);
        Drain();
    }

    public void Crash()
    {
        if (!Up) return;
        CrashVolatile(_sim.Random);
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

    protected override void Step(in Input input)
    {
        Outbox.Clear();
        Replica.Step(input, Outbox);
        Drain();
        _sim.Checker.AfterStep(this);
    }

    protected override void ScheduleFlush() => _sim.ScheduleFlush(this);

    protected override void OnOutput(in Output o, ReadOnlySpan<byte> payload)
    {
        switch (o.Kind)
        {
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

    /// <summary>Sends (to = -1: to every other replica), letting a Byzantine replica rewrite what it sends.</summary>
    protected override void Transmit(int to, byte[] message)
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
