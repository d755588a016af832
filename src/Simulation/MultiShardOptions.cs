using Chainspace.Consensus;
using Chainspace.Sbac;

namespace Chainspace.Simulation;

/// <summary>S-BAC-level misbehaviour of a Byzantine replica (combinable), on top of any <see cref="ByzantineMode"/>.
/// It signs only with its own keys and sends only under its own identity.</summary>
[Flags]
public enum SbacAttack
{
    None = 0,
    /// <summary>Signs a second vote batch for each executed batch with every decision flipped, and sends
    /// the true batch to some replicas and the flipped one to others.</summary>
    EquivocateVotes = 1,
    /// <summary>Re-sends its own old vote batches, to the right shard and to shards they do not concern.</summary>
    ReplayVotes = 2,
    /// <summary>Re-submits Accept commands it has seen (old, decided, or another shard's) as new requests.</summary>
    ReplayAccepts = 4,
    /// <summary>Submits Accepts with no proof, the flipped decision, or another transaction's proofs.</summary>
    ForgeAccepts = 8,
    /// <summary>Answers body fetches with another transaction's body or a garbled one.</summary>
    BadBodies = 16,
}

/// <summary>
/// One multi-shard run, derived entirely from its seed: K shards of 3f+1 = 4 replicas each running batched
/// PBFT + S-BAC, correct and Byzantine clients with a CSCoin and Dummy workload (including deliberate
/// double spends), and the fault mix (loss, duplication, delay, partitions, crashes, at most f Byzantine
/// replicas per shard). Times in ticks of <see cref="SimulationOptions.TickUnits"/> units.
/// </summary>
public sealed record MultiShardOptions
{
    public ulong Seed { get; init; }
    public int Shards { get; init; } = 2;
    public int Replicas { get; init; } = 4;
    public int Clients { get; init; } = 2;
    public int TransactionsPerClient { get; init; } = 10;
    public int ClientWindow { get; init; } = 3;
    public int ClientRetryTicks { get; init; } = 40;
    public bool ByzantineClient { get; init; }
    public double DoubleSpend { get; init; } = 0.2;
    public double CsCoinShare { get; init; } = 0.3;
    public double Loss { get; init; }
    public double Duplicate { get; init; }
    public int DelayMinUnits { get; init; } = 1;
    public int DelayMaxUnits { get; init; } = 20;
    public int FlushDelayMaxUnits { get; init; } = 10;
    public int FaultTicks { get; init; } = 400;
    public int HealTicksMax { get; init; } = 8000;
    public int Crashes { get; init; }
    public int Partitions { get; init; }
    /// <summary>Per shard, per replica.</summary>
    public ByzantineMode[][] Byzantine { get; init; } = [];
    public SbacAttack[][] Attacks { get; init; } = [];
    /// <summary>Sign S-BAC votes with Ed25519 (the node's scheme) instead of keyed hashes.</summary>
    public bool Ed25519Votes { get; init; }
    public ReplicaOptions Replica { get; init; } = new();
    public InitiatorOptions Initiator { get; init; } = new();
    public SbacBugs Bugs { get; init; }

    public int F => (Replicas - 1) / 3;

    public bool IsHonest(int shard, int replica) => Byzantine[shard][replica] == ByzantineMode.None && Attacks[shard][replica] == SbacAttack.None;

    public static MultiShardOptions FromSeed(ulong seed, SbacBugs bugs = SbacBugs.None)
    {
        var r = new SimRandom(seed ^ 0x5BAC_5EED_0F_0C4A1UL);
        int k = r.Range(2, 5);
        const int n = 4;
        var byz = new ByzantineMode[k][];
        var attacks = new SbacAttack[k][];
        for (int s = 0; s < k; s++)
        {
            byz[s] = new ByzantineMode[n];
            attacks[s] = new SbacAttack[n];
            if (!r.Chance(0.55)) continue;   // at most f = 1 Byzantine replica per shard
            int index = r.Next(n);
            if (r.Chance(0.15))
            {
                byz[s][index] = ByzantineMode.Silent;
                continue;
            }
            attacks[s][index] = (SbacAttack)r.Range(1, 31);
            if (r.Chance(0.4)) byz[s][index] = (ByzantineMode)(r.Range(1, 31) << 1);
        }
        var replica = SimulationOptions.RandomReplicaOptions(r, batchBytesMax: 256 * 1024, requestBytesMax: 32 * 1024, clientWindow: 256, pendingRequestsMax: 8192);
        var initiator = new InitiatorOptions
        {
            BackupDelayTicks = r.Range(5, 30),
            RetryDelayTicks = r.Range(10, 50),
            CommandBytesMax = replica.RequestBytesMax,
        };
        return new MultiShardOptions
        {
            Seed = seed,
            Shards = k,
            Replicas = n,
            Clients = r.Range(1, 3),
            TransactionsPerClient = r.Range(4, 10),
            ClientWindow = r.Range(1, 4),
            ClientRetryTicks = r.Range(20, 60),
            ByzantineClient = r.Chance(0.5),
            DoubleSpend = r.Range(0, 40) / 100.0,
            CsCoinShare = r.Range(0, 50) / 100.0,
            Loss = r.Chance(0.7) ? r.Range(0, 15) / 100.0 : 0,
            Duplicate = r.Chance(0.5) ? r.Range(0, 10) / 100.0 : 0,
            DelayMinUnits = r.Range(1, 5),
            DelayMaxUnits = r.Range(5, 50),
            FlushDelayMaxUnits = r.Range(1, 30),
            FaultTicks = r.Range(150, 450),
            Crashes = r.Chance(0.5) ? r.Range(1, 3) : 0,
            Partitions = r.Chance(0.4) ? r.Range(1, 2) : 0,
            Byzantine = byz,
            Attacks = attacks,
            Ed25519Votes = r.Chance(0.1),
            Replica = replica,
            Initiator = initiator,
            Bugs = bugs,
        };
    }

    public string Describe()
    {
        var byz = new List<string>();
        for (int s = 0; s < Shards; s++)
        {
            for (int i = 0; i < Replicas; i++)
            {
                if (Byzantine[s][i] != ByzantineMode.None || Attacks[s][i] != SbacAttack.None) byz.Add($"s{s}r{i}:{Byzantine[s][i]}/{Attacks[s][i]}");
            }
        }
        return $"K={Shards} n={Replicas} clients={Clients}x{TransactionsPerClient}(w{ClientWindow}){(ByzantineClient ? "+byz" : "")} " +
               $"doubleSpend={DoubleSpend:0.00} cscoin={CsCoinShare:0.00} loss={Loss:0.00} dup={Duplicate:0.00} delay={DelayMinUnits}-{DelayMaxUnits} " +
               $"crashes={Crashes} partitions={Partitions} byzantine=[{string.Join(",", byz)}] votes={(Ed25519Votes ? "ed25519" : "keyed")} " +
               $"batch={Replica.BatchRequestsMax} C={Replica.CheckpointInterval} faultTicks={FaultTicks} bugs={Bugs}";
    }
}
