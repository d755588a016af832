using Chainspace.Consensus;

namespace Chainspace.Simulation;

/// <summary>
/// What both simulators' replica drivers do alike, as a node's event loop does it: drain the replica's outbox in
/// order (records to the <see cref="SimDisk"/>, messages to the network), hold every SendAfterPersist message
/// until its record is durable, feed completed flushes back to the replica, and drop the parked messages on a
/// crash. Subclasses say where messages go and what the remaining outputs (replies, deliveries) mean.
/// </summary>
public abstract class DurableHost
{
    private readonly List<(ulong PersistId, int To, byte[] Message)> _parked = new();

    protected Outbox Outbox { get; } = new();
    public Replica Replica { get; protected set; } = null!;
    public SimDisk Disk { get; } = new();
    public bool Up { get; protected set; }
    public int Incarnation { get; protected set; }
    public bool FlushScheduled { get; set; }
    /// <summary>Highest sequence delivered in order (reset by state transfer and restart).</summary>
    public ulong LastDelivered { get; set; }

    /// <summary>Sends to replica <paramref name="to"/> of the shard, or to every other one when it is -1.</summary>
    protected abstract void Transmit(int to, byte[] message);

    protected abstract void ScheduleFlush();

    protected abstract void Step(in Input input);

    /// <summary>An output other than messages and records: a reply, a delivered batch, a view or state change.</summary>
    protected abstract void OnOutput(in Output output, ReadOnlySpan<byte> payload);

    /// <summary>A new incarnation is up; what the previous one had not flushed may be lost.</summary>
    protected void BeginIncarnation()
    {
        Up = true;
        Incarnation++;
        FlushScheduled = false;
    }

    /// <summary>The process dies: parked messages go with it, and the disk keeps what it keeps.</summary>
    protected void CrashVolatile(SimRandom random)
    {
        Up = false;
        _parked.Clear();
        Disk.Crash(random);
    }

    protected void Drain()
    {
        for (int i = 0; i < Outbox.Count; i++)
        {
            ref readonly var o = ref Outbox[i];
            var payload = Outbox.Payload(o);
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
                    Disk.Append(o.PersistId, payload, Outbox.Tail(o));
                    if (!FlushScheduled) ScheduleFlush();
                    break;
                case OutputKind.PersistLazy:
                    Disk.Append(o.PersistId, payload, Outbox.Tail(o));   // as a node does: made durable by the next flush, lost in a crash before it
                    break;
                case OutputKind.TruncateLog:
                    Disk.Truncate(o.PersistId);
                    break;
                default:
                    OnOutput(o, payload);
                    break;
            }
        }
        Outbox.Clear();
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
        if (Disk.AppendedId > Disk.DurableId) ScheduleFlush();
    }
}
