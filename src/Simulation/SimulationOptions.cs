using Chainspace.Consensus;

namespace Chainspace.Simulation;

/// <summary>How a Byzantine replica misbehaves (combinable). It otherwise runs the real replica code with
/// its own key only: it can lie, but cannot sign as anyone else.</summary>
[Flags]
public enum ByzantineMode
{
    None = 0,
    /// <summary>Sends nothing at all.</summary>
    Silent = 1,
    /// <summary>As primary, sends a different (validly signed) batch to some replicas.</summary>
    Equivocate = 2,
    /// <summary>As primary, sends some replicas a different body under the original digest and signature.</summary>
    SameDigestOtherBody = 4,
    /// <summary>As new primary, sends a NEW-VIEW whose pre-prepares do not follow from its proofs.</summary>
    ForgeNewView = 8,
    /// <summary>Replays messages it received earlier (old views, old sequences) and forges others' votes.</summary>
    Replay = 16,
    /// <summary>Votes (validly signed) for digests it never saw.</summary>
    BadVotes = 32,
}

/// <summary>
/// One simulated run, derived entirely from its seed (swarm testing: each seed picks its own cluster size,
/// workload, protocol parameters and fault mix). Times are in ticks; one tick is <see cref="TickUnits"/>
/// units of virtual time, the resolution of network and disk delays.
/// </summary>
public sealed record SimulationOptions
{
    public const int TickUnits = 10;

    public ulong Seed { get; init; }
    public int Replicas { get; init; } = 4;
    public int Clients { get; init; } = 2;
    public int RequestsPerClient { get; init; } = 40;
    public int ClientWindow { get; init; } = 4;
    public int ClientRetryTicks { get; init; } = 40;
    public double Loss { get; init; }
    public double Duplicate { get; init; }
    public int DelayMinUnits { get; init; } = 1;
    public int DelayMaxUnits { get; init; } = 20;
    public int FlushDelayMaxUnits { get; init; } = 10;
    public int FaultTicks { get; init; } = 600;
    public int HealTicksMax { get; init; } = 6000;
    public int Crashes { get; init; }
    public int Partitions { get; init; }
    public ByzantineMode[] Byzantine { get; init; } = new ByzantineMode[4];
    public ReplicaOptions Replica { get; init; } = new();

    public int F => (Replicas - 1) / 3;

    public static SimulationOptions FromSeed(ulong seed, PlantedBug bugs = PlantedBug.None)
    {
        var r = new SimRandom(seed ^ 0x5EED_0F_C4A1_5FACEUL);
        int n = r.Chance(0.15) ? 7 : 4;
        int f = (n - 1) / 3;
        var byz = new ByzantineMode[n];
        int byzCount = r.Chance(0.6) ? r.Range(1, f) : 0;
        for (int k = 0; k < byzCount; k++)
        {
            int index = r.Next(n);
            while (byz[index] != ByzantineMode.None) index = (index + 1) % n;
            byz[index] = r.Chance(0.2) ? ByzantineMode.Silent : (ByzantineMode)(r.Range(1, 31) << 1);
        }
        var replica = RandomReplicaOptions(r, batchBytesMax: 4096, requestBytesMax: 256, clientWindow: 64, pendingRequestsMax: 4096) with { PlantedBugs = bugs };
        return new SimulationOptions
        {
            Seed = seed,
            Replicas = n,
            Clients = r.Range(1, 4),
            RequestsPerClient = r.Range(10, 60),
            ClientWindow = r.Range(1, 12),
            ClientRetryTicks = r.Range(20, 60),
            Loss = r.Chance(0.7) ? r.Range(0, 20) / 100.0 : 0,
            Duplicate = r.Chance(0.5) ? r.Range(0, 10) / 100.0 : 0,
            DelayMinUnits = r.Range(1, 5),
            DelayMaxUnits = r.Range(5, 60),
            FlushDelayMaxUnits = r.Range(1, 30),
            FaultTicks = r.Range(200, 800),
            Crashes = r.Chance(0.5) ? r.Range(1, 4) : 0,
            Partitions = r.Chance(0.5) ? r.Range(1, 3) : 0,
            Byzantine = byz,
            Replica = replica,
        };
    }

    /// <summary>
    /// PBFT parameters drawn from a seed's random stream, shared by both simulators so that every seed explores
    /// small batches, short checkpoint intervals, deep pipelines and short timeouts. The draw order is fixed:
    /// changing it would change what every recorded seed replays.
    /// </summary>
    internal static ReplicaOptions RandomReplicaOptions(SimRandom r, int batchBytesMax, int requestBytesMax, int clientWindow, int pendingRequestsMax)
    {
        int checkpoint = r.Range(2, 8);
        return new ReplicaOptions
        {
            BatchRequestsMax = r.Range(1, 16),
            BatchBytesMax = batchBytesMax,
            RequestBytesMax = requestBytesMax,
            BatchDelayTicks = r.Range(0, 2),
            PipelineDepth = r.Range(1, 2 * checkpoint),
            CheckpointInterval = checkpoint,
            WatermarkWindow = checkpoint * r.Range(2, 4),
            ClientWindow = clientWindow,
            RequestTimeoutTicks = r.Range(30, 80),
            ViewChangeTimeoutTicks = r.Range(30, 80),
            ViewChangeTimeoutMaxTicks = 400,
            StatusIntervalTicks = r.Range(5, 15),
            RetransmitSequencesMax = r.Range(2, 8),
            StateTransferDelayTicks = r.Range(10, 30),
            PendingRequestsMax = pendingRequestsMax,
            // Small pieces so that snapshots move in several (recovery and state transfer under faults); derived,
            // not drawn, so every recorded seed replays as before.
            SnapshotChunkBytes = 256 << (checkpoint % 3),
        };
    }

    public string Describe()
    {
        var byz = string.Join(",", Byzantine.Select((m, i) => m == ByzantineMode.None ? null : $"r{i}:{m}").Where(s => s is not null));
        return $"n={Replicas} clients={Clients}x{RequestsPerClient}(w{ClientWindow}) loss={Loss:0.00} dup={Duplicate:0.00} delay={DelayMinUnits}-{DelayMaxUnits} " +
               $"crashes={Crashes} partitions={Partitions} byzantine=[{byz}] batch={Replica.BatchRequestsMax} C={Replica.CheckpointInterval} " +
               $"L={Replica.WatermarkWindow} pipeline={Replica.PipelineDepth} faultTicks={FaultTicks} bugs={Replica.PlantedBugs}";
    }
}
