using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Model;
using Chainspace.Sbac;

namespace Chainspace.Simulation;

/// <summary>
/// Deterministic simulation of a whole Chainspace cluster: K shards × 4 replicas, each the real PBFT
/// <see cref="Replica"/> over the real S-BAC ledger and initiator (<see cref="SbacHost"/>), correct and
/// Byzantine <see cref="TxClient"/>s, one seeded PRNG and a virtual clock. Every message between replicas
/// (PBFT, vote batches, body fetches) and between clients and replicas can be lost, duplicated, delayed and
/// reordered; partitions split the replicas; replicas crash and recover from their simulated disks; up to
/// one replica per shard is Byzantine. A fault phase is followed by healing (no loss or partitions, every
/// replica restarted), after which every correct client's transactions must be decided everywhere. The
/// <see cref="MultiShardChecker"/> runs after every command, batch and step, and at the end.
/// </summary>
public sealed class MultiShardSimulator
{
    private enum EventKind : byte { Pbft, Request, Reply, Votes, Fetch, Body, HostTick, ClientTick, Flush, Crash, Restart, Partition, Heal }

    private sealed record Event(EventKind Kind, int Shard, int Node, NodeId From, byte[]? Payload, ulong Number, int Incarnation, Hash256 Tx);

    private readonly PriorityQueue<Event, (long, long)> _events = new();
    private readonly TextWriter? _trace;
    private readonly int[] _group;
    private long _order;
    private bool _healed;

    public MultiShardSimulator(MultiShardOptions options, TextWriter? trace = null)
    {
        Options = options;
        _trace = trace;
        Random = new SimRandom(options.Seed);
        int k = options.Shards, n = options.Replicas;
        var (config, keys) = ClusterConfig.CreateLocal(k, n, seed: $"sim/{options.Seed}");
        Config = config;
        var seedBytes = BitConverter.GetBytes(options.Seed);
        IReplicaSigner PbftKey(int s, int i) => new KeyedHashSigner([.. seedBytes, (byte)s, (byte)'p'], n, i);
        IReplicaSigner VoteKey(int s, int i) => options.Ed25519Votes
            ? new Ed25519ReplicaSigner(config.Shard(s), keys[new NodeId((ushort)s, (ushort)i)])
            : new KeyedHashSigner([.. seedBytes, (byte)s, (byte)'v'], n, i);
        Verifier = options.Ed25519Votes
            ? ProofVerifier.FromConfiguration(config)
            : new ProofVerifier(config, Enumerable.Range(0, k).Select(s => VoteKey(s, 0)).ToArray());
        bool coins = options.CsCoinShare > 0;
        Universe = new Universe(options.Seed, config.ShardMap, tokens: 10 * (options.Clients + 1) + 8, accounts: coins ? 4 * options.Clients + 2 : 0);
        Checker = new MultiShardChecker(this);
        _group = new int[k * n];
        Hosts = new SbacHost[k][];
        for (int s = 0; s < k; s++)
        {
            Hosts[s] = new SbacHost[n];
            for (int i = 0; i < n; i++) Hosts[s][i] = new SbacHost(this, s, i, PbftKey(s, i), VoteKey(s, i));
        }
        int clients = options.Clients + (options.ByzantineClient ? 1 : 0);
        var pools = new List<ChainObject>[clients];
        for (int c = 0; c < clients; c++) pools[c] = new List<ChainObject>();
        int next = 0;
        foreach (var o in Universe.Genesis.Where(o => !Universe.IsAccount(o))) pools[next++ % clients].Add(o);
        next = 0;
        foreach (var o in Universe.Genesis.Where(Universe.IsAccount)) pools[next++ % options.Clients].Add(o);
        Clients = new TxClient[clients];
        for (int c = 0; c < clients; c++)
        {
            bool correct = c < options.Clients;
            Clients[c] = new TxClient(this, (ulong)(c + 1), correct, pools[c], options.TransactionsPerClient);
        }
    }

    public MultiShardOptions Options { get; }
    public SimRandom Random { get; }
    public ClusterConfig Config { get; }
    public ProofVerifier Verifier { get; }
    public Universe Universe { get; }
    public MultiShardChecker Checker { get; }
    public SbacHost[][] Hosts { get; }
    public TxClient[] Clients { get; }
    public long Now { get; private set; }
    public long NowTick => Now / SimulationOptions.TickUnits;
    public long Steps { get; private set; }
    public bool Healed => _healed;
    public bool Tracing => _trace is not null;

    public IEnumerable<SbacHost> AllHosts => Hosts.SelectMany(h => h);

    public static string ReplayCommand(ulong seed, SbacBugs bugs = SbacBugs.None) =>
        $"dotnet run --project src/Simulation -c Release -- --multi --seed {seed}{(bugs == SbacBugs.None ? "" : $" --sbac-bug {bugs}")} --trace";

    /// <summary>Runs one seed to completion; throws <see cref="SimulationFailure"/> on any violation.</summary>
    public static MultiShardSimulator Run(MultiShardOptions options, TextWriter? trace = null)
    {
        var sim = new MultiShardSimulator(options, trace);
        sim.RunToEnd();
        return sim;
    }

    public void Fail(string message) =>
        throw new SimulationFailure(Options.Seed, $"multi-shard t={NowTick}: {message}\n  options: {Options.Describe()}", ReplayCommand(Options.Seed, Options.Bugs));

    public void Trace(string line) => _trace?.WriteLine($"{NowTick,6}.{Now % SimulationOptions.TickUnits} {line}");

    private void Schedule(long delayUnits, Event e) => _events.Enqueue(e, (Now + Math.Max(0, delayUnits), _order++));

    private void RunToEnd()
    {
        Trace($"seed {Options.Seed}: {Options.Describe()}");
        foreach (var h in AllHosts) Schedule(Random.Next(SimulationOptions.TickUnits), new Event(EventKind.HostTick, h.Shard, h.Index, default, null, 0, 0, default));
        for (int c = 0; c < Clients.Length; c++) Schedule(Random.Next(SimulationOptions.TickUnits), new Event(EventKind.ClientTick, 0, c, default, null, 0, 0, default));
        long faultEnd = (long)Options.FaultTicks * SimulationOptions.TickUnits;
        for (int i = 0; i < Options.Crashes; i++)
        {
            int s = Random.Next(Options.Shards), r = Random.Next(Options.Replicas);
            long at = Random.Next((int)faultEnd);
            Schedule(at, new Event(EventKind.Crash, s, r, default, null, 0, 0, default));
            Schedule(at + Random.Range(5, 100) * SimulationOptions.TickUnits, new Event(EventKind.Restart, s, r, default, null, 0, 0, default));
        }
        for (int i = 0; i < Options.Partitions; i++)
        {
            long at = Random.Next((int)faultEnd);
            Schedule(at, new Event(EventKind.Partition, 0, 0, default, null, 0, 0, default));
            Schedule(at + Random.Range(20, 200) * SimulationOptions.TickUnits, new Event(EventKind.Partition, 0, 1, default, null, 0, 0, default));
        }
        Schedule(faultEnd, new Event(EventKind.Heal, 0, 0, default, null, 0, 0, default));
        long end = faultEnd + (long)Options.HealTicksMax * SimulationOptions.TickUnits;
        long lastCheck = 0;
        bool quiescent = false;
        while (_events.TryDequeue(out var e, out var key))
        {
            Now = key.Item1;
            if (Now > end) break;
            Steps++;
            Process(e);
            if (_healed && NowTick - lastCheck >= 10)
            {
                lastCheck = NowTick;
                if (Clients.All(c => c.Done) && Checker.Quiescent(out _))
                {
                    quiescent = true;
                    break;
                }
            }
        }
        if (!quiescent)
        {
            Checker.Quiescent(out string missing);
            var clients = string.Join("; ", Clients.Where(c => !c.Done).Select(c => c.Status));
            var hosts = string.Join("; ", AllHosts.Select(h => $"s{h.Shard}r{h.Index}{(h.Honest ? "" : "*")} v{h.Replica.View} exec {h.Replica.LastExecuted}"));
            Fail($"liveness: not quiescent {Options.HealTicksMax} ticks after healing: {clients} | {missing} | {hosts}");
        }
        Checker.AtEnd();
    }

    private void Process(Event e)
    {
        switch (e.Kind)
        {
            case EventKind.Pbft:
                Hosts[e.Shard][e.Node].DeliverPbft(e.From.Replica, e.Payload!);
                break;
            case EventKind.Request:
                Hosts[e.Shard][e.Node].DeliverRequest(e.Payload!);
                break;
            case EventKind.Reply:
                Clients[e.Node].OnReply((uint)e.From.Shard, e.From.Replica, e.Payload!, NowTick);
                break;
            case EventKind.Votes:
                Hosts[e.Shard][e.Node].DeliverVotes(e.From, e.Payload!);
                break;
            case EventKind.Fetch:
                Hosts[e.Shard][e.Node].DeliverFetch(e.From, e.Tx);
                break;
            case EventKind.Body:
                Hosts[e.Shard][e.Node].DeliverBody(e.Tx, e.Payload!);
                break;
            case EventKind.HostTick:
                Hosts[e.Shard][e.Node].Tick();
                Schedule(SimulationOptions.TickUnits, e);
                break;
            case EventKind.ClientTick:
                Clients[e.Node].OnTick(NowTick);
                Schedule(SimulationOptions.TickUnits, e);
                break;
            case EventKind.Flush:
                Hosts[e.Shard][e.Node].FlushCompleted(e.Number, e.Incarnation);
                break;
            case EventKind.Crash:
                if (!_healed && MayCrash(e.Shard)) Hosts[e.Shard][e.Node].Crash();
                break;
            case EventKind.Restart:
                Hosts[e.Shard][e.Node].Restart();
                break;
            case EventKind.Partition:
                if (!_healed) SetPartition(split: e.Node == 0);
                break;
            case EventKind.Heal:
                _healed = true;
                Array.Clear(_group);
                foreach (var h in AllHosts) h.Restart();
                Trace("heal: no more loss, partitions or crashes");
                break;
        }
    }

    /// <summary>
    /// The fault model is f = 1 faulty replica per shard at a time, crashed or Byzantine: a crash is skipped in a
    /// shard that has a Byzantine replica or a replica already down. (Beyond it, S-BAC loses liveness: the
    /// initiators' collected votes are volatile and nothing re-sends a vote after a shard decided, so a shard
    /// whose honest replicas all restart between its vote and its Accept waits for ever. See the issue 7 report.)
    /// </summary>
    private bool MayCrash(int shard)
    {
        foreach (var h in Hosts[shard])
        {
            if (!h.Honest || !h.Up) return false;
        }
        return true;
    }

    private void SetPartition(bool split)
    {
        for (int i = 0; i < _group.Length; i++) _group[i] = split ? Random.Next(2) : 0;
        Trace(split ? $"partition [{string.Join(",", _group)}]" : "partition healed");
    }

    // ---- network ----

    private int Global(int shard, int replica) => shard * Options.Replicas + replica;
    private bool Lost() => !_healed && Random.Chance(Options.Loss);
    private long Delay() => Random.Range(Options.DelayMinUnits, Options.DelayMaxUnits);

    private void Link(int fromGlobal, int toGlobal, Event e)
    {
        if (fromGlobal != toGlobal && (_group[fromGlobal] != _group[toGlobal] || Lost())) return;
        Schedule(Delay(), e);
        if (!_healed && Random.Chance(Options.Duplicate)) Schedule(Delay(), e);
    }

    public void SendPbft(int shard, int from, int to, byte[] message) =>
        Link(Global(shard, from), Global(shard, to), new Event(EventKind.Pbft, shard, to, new NodeId((ushort)shard, (ushort)from), message, 0, 0, default));

    /// <summary>
    /// Vote batches travel over a reliable session (a node's connection re-sends after reconnecting): a
    /// partition delays them and the network may duplicate and reorder them, but never loses one. S-BAC has
    /// no vote retransmission of its own: a lost vote batch can leave a shard that missed it undecided for
    /// good (see the report on issue 7), so losing them would test the transport, not the protocol.
    /// </summary>
    public void SendVotes(NodeId from, int shard, int to, byte[] message)
    {
        var e = new Event(EventKind.Votes, shard, to, from, message, 0, 0, default);
        bool split = _group[Global(from.Shard, from.Replica)] != _group[Global(shard, to)];
        Schedule(Delay() + (split ? Random.Range(50, 200) * SimulationOptions.TickUnits : 0), e);
        if (!_healed && Random.Chance(Options.Duplicate)) Schedule(Delay(), e);
    }

    public void SendFetch(NodeId from, NodeId to, Hash256 txId) =>
        Link(Global(from.Shard, from.Replica), Global(to.Shard, to.Replica), new Event(EventKind.Fetch, to.Shard, to.Replica, from, null, 0, 0, txId));

    public void SendBody(NodeId from, NodeId to, Hash256 txId, byte[] body) =>
        Link(Global(from.Shard, from.Replica), Global(to.Shard, to.Replica), new Event(EventKind.Body, to.Shard, to.Replica, from, body, 0, 0, txId));

    public void SendRequestFromReplica(NodeId from, int shard, int to, byte[] message) =>
        Link(Global(from.Shard, from.Replica), Global(shard, to), new Event(EventKind.Request, shard, to, from, message, 0, 0, default));

    public void SendRequest(ulong client, uint shard, int to, byte[] message)
    {
        if (Lost()) return;
        Schedule(Delay(), new Event(EventKind.Request, (int)shard, to, default, message, client, 0, default));
    }

    public void SendReply(NodeId from, ulong client, byte[] message)
    {
        if (client == 0 || client > (ulong)Clients.Length || Lost()) return;
        Schedule(Delay(), new Event(EventKind.Reply, 0, (int)client - 1, from, message, 0, 0, default));
    }

    public void ScheduleFlush(SbacHost host)
    {
        host.FlushScheduled = true;
        Schedule(Random.Range(1, Options.FlushDelayMaxUnits), new Event(EventKind.Flush, host.Shard, host.Index, default, null, host.Disk.AppendedId, host.Incarnation, default));
    }
}
