using Chainspace.Consensus;
using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>A run that broke an invariant or lost liveness. The message names the seed and the replay command.</summary>
public sealed class SimulationFailure(ulong seed, string message, string? replay = null)
    : Exception($"seed {seed}: {message}\n  replay: {replay ?? Simulator.ReplayCommand(seed)}")
{
    public ulong Seed { get; } = seed;
}

/// <summary>
/// Deterministic simulation of one PBFT shard (VOPR style): a seeded PRNG, a virtual clock (an event queue
/// ordered by time, then by insertion), a network that loses, duplicates, delays, reorders and partitions,
/// disks that lose unflushed writes and tear the last, crashes and restarts, and up to f Byzantine
/// replicas, all driving the real <see cref="Replica"/>. A fault phase is followed by a healing phase in
/// which every correct client's requests must complete. The <see cref="Checker"/> runs after every step.
/// </summary>
public sealed class Simulator
{
    private enum EventKind : byte { ReplicaMessage, ClientRequest, Reply, ReplicaTick, ClientTick, Flush, Crash, Restart, Partition, Heal }

    private sealed record Event(EventKind Kind, int Node, int From, byte[]? Payload, ulong Number, int Incarnation);

    private readonly PriorityQueue<Event, (long, long)> _events = new();
    private readonly TextWriter? _trace;
    private long _order;
    private int[] _group;
    private bool _healed;

    public Simulator(SimulationOptions options, TextWriter? trace = null)
    {
        Options = options;
        _trace = trace;
        Random = new SimRandom(options.Seed);
        Context = new ShardContext(0x5151_0000UL ^ options.Seed, 1, 0, options.Replicas);
        Checker = new Checker(this);
        _group = new int[options.Replicas];
        var seedBytes = BitConverter.GetBytes(options.Seed);
        Hosts = new ReplicaHost[options.Replicas];
        for (int i = 0; i < options.Replicas; i++)
        {
            Hosts[i] = new ReplicaHost(this, i, new KeyedHashSigner(seedBytes, options.Replicas, i), options.Byzantine[i]);
        }
        Clients = new SimClient[options.Clients];
        for (int c = 0; c < options.Clients; c++) Clients[c] = new SimClient(this, (ulong)(c + 1), options.RequestsPerClient, options.ClientWindow);
    }

    public SimulationOptions Options { get; }
    public SimRandom Random { get; }
    public ShardContext Context { get; }
    public Checker Checker { get; }
    public ReplicaHost[] Hosts { get; }
    public SimClient[] Clients { get; }
    public long Now { get; private set; }
    public long NowTick => Now / SimulationOptions.TickUnits;
    public long Steps { get; private set; }
    public long MessagesSent { get; private set; }

    public static string ReplayCommand(ulong seed) =>
        $"dotnet run --project src/Simulation -c Release -- --seed {seed} --trace";

    /// <summary>Runs one seed to completion; throws <see cref="SimulationFailure"/> on any violation.</summary>
    public static Simulator Run(SimulationOptions options, TextWriter? trace = null)
    {
        var sim = new Simulator(options, trace);
        sim.RunToEnd();
        return sim;
    }

    public void Fail(string message) => throw new SimulationFailure(Options.Seed, $"t={NowTick}: {message}");

    public void Trace(string line) => _trace?.WriteLine($"{NowTick,6}.{Now % SimulationOptions.TickUnits} {line}");

    private void Schedule(long delayUnits, Event e) => _events.Enqueue(e, (Now + Math.Max(0, delayUnits), _order++));

    private void RunToEnd()
    {
        Trace($"seed {Options.Seed}: {Options.Describe()}");
        for (int i = 0; i < Hosts.Length; i++) Schedule(Random.Next(SimulationOptions.TickUnits), new Event(EventKind.ReplicaTick, i, -1, null, 0, 0));
        for (int c = 0; c < Clients.Length; c++) Schedule(Random.Next(SimulationOptions.TickUnits), new Event(EventKind.ClientTick, c, -1, null, 0, 0));
        long faultEnd = (long)Options.FaultTicks * SimulationOptions.TickUnits;
        for (int k = 0; k < Options.Crashes; k++)
        {
            int victim = Random.Next(Hosts.Length);
            long at = Random.Next((int)faultEnd);
            Schedule(at, new Event(EventKind.Crash, victim, -1, null, 0, 0));
            Schedule(at + Random.Range(5, 100) * SimulationOptions.TickUnits, new Event(EventKind.Restart, victim, -1, null, 0, 0));
        }
        for (int k = 0; k < Options.Partitions; k++)
        {
            long at = Random.Next((int)faultEnd);
            Schedule(at, new Event(EventKind.Partition, 0, -1, null, 0, 0));
            Schedule(at + Random.Range(20, 200) * SimulationOptions.TickUnits, new Event(EventKind.Partition, 1, -1, null, 0, 0));
        }
        Schedule(faultEnd, new Event(EventKind.Heal, 0, -1, null, 0, 0));
        long end = faultEnd + (long)Options.HealTicksMax * SimulationOptions.TickUnits;
        while (_events.TryDequeue(out var e, out var key))
        {
            Now = key.Item1;
            if (Now > end) break;
            Steps++;
            Process(e);
            if (_healed && AllClientsDone()) break;
        }
        if (!AllClientsDone())
        {
            var stuck = Clients.Where(c => !c.Done).Select(c => $"client {c.Id} {c.Completed}/{c.Total} (waiting {string.Join(",", c.Outstanding.Take(5))})");
            var states = Hosts.Select(h => $"r{h.Index}{(h.Honest ? "" : "*")}{(h.Up ? "" : "(down)")} v{h.Replica.View}{(h.Replica.ViewActive ? "" : "vc")} exec {h.Replica.LastExecuted} stable {h.Replica.StableSequence} queued {h.Replica.QueuedRequests}");
            Fail($"liveness: not done {Options.HealTicksMax} ticks after healing: {string.Join("; ", stuck)} | {string.Join("; ", states)}");
        }
        Checker.AtEnd();
    }

    private bool AllClientsDone()
    {
        foreach (var c in Clients)
        {
            if (!c.Done) return false;
        }
        return true;
    }

    private void Process(Event e)
    {
        switch (e.Kind)
        {
            case EventKind.ReplicaMessage:
                TraceMessage(e.From, e.Node, e.Payload!);
                Hosts[e.Node].Deliver(e.From, e.Payload!);
                break;
            case EventKind.ClientRequest:
                Hosts[e.Node].DeliverRequest(e.Payload!);
                break;
            case EventKind.Reply:
                Clients[e.Node].OnReply(e.From, e.Payload!, NowTick);
                break;
            case EventKind.ReplicaTick:
                Hosts[e.Node].Tick();
                Schedule(SimulationOptions.TickUnits, e);
                break;
            case EventKind.ClientTick:
                Clients[e.Node].OnTick(NowTick);
                Schedule(SimulationOptions.TickUnits, e);
                break;
            case EventKind.Flush:
                Hosts[e.Node].FlushCompleted(e.Number, e.Incarnation);
                break;
            case EventKind.Crash:
                if (!_healed) Hosts[e.Node].Crash();
                break;
            case EventKind.Restart:
                Hosts[e.Node].Restart();
                break;
            case EventKind.Partition:
                if (!_healed) SetPartition(split: e.Node == 0);
                break;
            case EventKind.Heal:
                Heal();
                break;
        }
    }

    private void SetPartition(bool split)
    {
        for (int i = 0; i < _group.Length; i++) _group[i] = split ? Random.Next(2) : 0;
        Trace(split ? $"partition [{string.Join(",", _group)}]" : "partition healed");
    }

    private void Heal()
    {
        _healed = true;
        Array.Clear(_group);
        foreach (var h in Hosts) h.Restart();
        Trace("heal: no more loss, partitions or crashes");
    }

    // ---- network ----

    private bool Lost() => !_healed && Random.Chance(Options.Loss);
    private long Delay() => Random.Range(Options.DelayMinUnits, Options.DelayMaxUnits);

    public void SendToReplica(int from, int to, byte[] message)
    {
        MessagesSent++;
        if (_group[from] != _group[to] || Lost()) return;
        Schedule(Delay(), new Event(EventKind.ReplicaMessage, to, from, message, 0, 0));
        if (!_healed && Random.Chance(Options.Duplicate)) Schedule(Delay(), new Event(EventKind.ReplicaMessage, to, from, message, 0, 0));
    }

    public void SendFromClient(ulong client, int to, byte[] message)
    {
        if (Lost()) return;
        Schedule(Delay(), new Event(EventKind.ClientRequest, to, -1, message, client, 0));
    }

    public void SendReply(int from, ulong client, byte[] message)
    {
        if (client == 0 || client > (ulong)Clients.Length || Lost()) return;
        Schedule(Delay(), new Event(EventKind.Reply, (int)client - 1, from, message, 0, 0));
    }

    public void ScheduleFlush(ReplicaHost host)
    {
        host.FlushScheduled = true;
        Schedule(Random.Range(1, Options.FlushDelayMaxUnits), new Event(EventKind.Flush, host.Index, -1, null, host.Disk.AppendedId, host.Incarnation));
    }

    private void TraceMessage(int from, int to, byte[] message)
    {
        if (_trace is null) return;
        Wire.TryPeekType(message, out var type);
        string detail = type switch
        {
            MessageType.PrePrepare when Wire.TryReadPrePrepare(message, int.MaxValue, out var pp) => $"v{pp.View} n{pp.Sequence} d{pp.Digest.ToShortString()}",
            MessageType.Prepare or MessageType.Commit when Wire.TryReadVote(message, type, out var v) => $"v{v.View} n{v.Sequence} d{v.Digest.ToShortString()} by r{v.Signer}",
            _ => $"{message.Length} B",
        };
        Trace($"r{from} -> r{to} {type} {detail}");
    }
}
