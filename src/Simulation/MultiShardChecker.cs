using System.Text;
using Chainspace.Core;
using Chainspace.Core.Model;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;

namespace Chainspace.Simulation;

/// <summary>
/// Cluster-wide S-BAC invariants of the multi-shard simulator, on honest replicas only:
/// - per shard, PBFT agreement: one batch per sequence, and every replica that executes it casts the same
///   votes and reaches the same decisions, in the same order;
/// - atomicity: a transaction has one decision across every shard that decides it;
/// - locks: a shard never votes commit for a transaction on an object another undecided commit vote holds,
///   and (the ledger's own check, after every batch) no lock survives its transaction's decision;
/// - no object is consumed by two committed transactions;
/// and at the end, once quiescent: every correct client's transaction is decided in every concerned shard
/// (and created in its output shards), an object is active only in its own shard and never after it was
/// consumed, no lock is left by a decided transaction, and CSCoin supply is what genesis created.
/// </summary>
public sealed class MultiShardChecker(MultiShardSimulator sim)
{
    private readonly Dictionary<(int Shard, ulong Seq), (Hash256 Digest, int Replica)> _delivered = new();
    private readonly Dictionary<(int Shard, ulong Seq), (string Outcome, int Replica)> _batches = new();
    private readonly Dictionary<(int Shard, ulong Seq), int> _modelOwner = new();
    private readonly HashSet<(int Shard, ulong Seq)> _modelDone = new();
    private readonly Dictionary<Hash256, (Decision Decision, int Shard)> _decisions = new();
    private readonly Dictionary<(int Shard, Hash256 Object), Hash256> _locks = new();
    private readonly Dictionary<Hash256, Hash256> _consumedBy = new();

    public int DecidedTransactions => _decisions.Count;
    public int CommittedTransactions => _decisions.Values.Count(d => d.Decision == Decision.Commit);

    public void OnDelivered(SbacHost host, ulong seq, in Hash256 digest)
    {
        if (_delivered.TryGetValue((host.Shard, seq), out var first))
        {
            if (first.Digest != digest) sim.Fail($"agreement: shard {host.Shard} r{first.Replica} delivered {first.Digest.ToShortString()} and r{host.Index} {digest.ToShortString()} at {seq}");
        }
        else
        {
            _delivered.Add((host.Shard, seq), (digest, host.Index));
        }
    }

    /// <summary>After one command of batch <paramref name="seq"/>: the votes and decisions it added, applied to the
    /// model by the first honest replica that executes the batch (the others must then match it, see <see cref="OnBatch"/>).</summary>
    public void OnCommand(SbacHost host, ulong seq, int votesBefore, int decisionsBefore)
    {
        if (!_modelOwner.TryGetValue((host.Shard, seq), out int owner))
        {
            owner = host.Index;
            _modelOwner.Add((host.Shard, seq), owner);
        }
        if (owner != host.Index || _modelDone.Contains((host.Shard, seq))) return;   // applied once, not again on recovery
        var ledger = host.Ledger;
        var votes = ledger.BatchVotes;
        for (int i = votesBefore; i < votes.Length; i++)
        {
            var tx = Known(votes[i].TransactionId, ledger.BodyOfVote(i));
            if (votes[i].Decision == Decision.Commit && tx is not null) LockInModel(host, tx);
        }
        var decisions = ledger.BatchDecisions;
        for (int i = decisionsBefore; i < decisions.Length; i++) Decide(host.Shard, decisions[i].TransactionId, decisions[i].Decision);
    }

    private Transaction? Known(in Hash256 txId, ReadOnlySpan<byte> body)
    {
        if (sim.Universe.TryGet(txId, out var tx)) return tx;
        if (!Transaction.TryDecode(body, null, out var decoded, out _) || decoded!.Id != txId) sim.Fail($"a vote for {txId.ToShortString()} over a body with another id");
        sim.Universe.Register(decoded!, correct: false);
        return decoded;
    }

    private void LockInModel(SbacHost host, Transaction tx)
    {
        int shard = host.Shard;
        foreach (var o in Universe.Inputs(tx).Select(o => o.Id).Distinct())
        {
            if (sim.Universe.Map.ShardOf(o) != shard) continue;
            if (_locks.TryGetValue((shard, o), out var holder) && holder != tx.Id)
            {
                sim.Fail($"lock: s{shard}r{host.Index} voted commit at batch {host.Ledger.BatchSequence} for {tx.Id.ToShortString()} on {o.ToShortString()}, locked by undecided {holder.ToShortString()}");
            }
            _locks[(shard, o)] = tx.Id;
        }
    }

    private void Decide(int shard, in Hash256 txId, Decision decision)
    {
        if (_decisions.TryGetValue(txId, out var first))
        {
            if (first.Decision != decision) sim.Fail($"atomicity: {txId.ToShortString()} decided {first.Decision} in shard {first.Shard} and {decision} in shard {shard}");
        }
        else
        {
            _decisions.Add(txId, (decision, shard));
        }
        if (!sim.Universe.TryGet(txId, out var tx)) return;   // an abort for a transaction never seen: nothing held
        foreach (var o in Universe.Inputs(tx).Select(o => o.Id).Distinct())
        {
            if (sim.Universe.Map.ShardOf(o) != shard) continue;
            if (_locks.TryGetValue((shard, o), out var holder) && holder == txId) _locks.Remove((shard, o));
            if (decision != Decision.Commit) continue;
            if (_consumedBy.TryGetValue(o, out var consumer) && consumer != txId)
            {
                sim.Fail($"double spend: {o.ToShortString()} consumed by committed {consumer.ToShortString()} and {txId.ToShortString()}");
            }
            _consumedBy[o] = txId;
        }
    }

    /// <summary>After a whole batch: same votes and decisions as every other honest replica, and the ledger's own
    /// lock invariants (every lock belongs to an undecided commit vote).</summary>
    public void OnBatch(SbacHost host, ulong seq)
    {
        var ledger = host.Ledger;
        var sb = new StringBuilder();
        foreach (var v in ledger.BatchVotes) sb.Append(v.TransactionId.ToShortString()).Append(v.Decision == Decision.Commit ? "+ " : "- ");
        sb.Append('|');
        foreach (var d in ledger.BatchDecisions) sb.Append(d.TransactionId.ToShortString()).Append(d.Decision == Decision.Commit ? "+ " : "- ");
        string outcome = sb.ToString();
        if (_modelOwner.TryGetValue((host.Shard, seq), out int owner) && owner == host.Index) _modelDone.Add((host.Shard, seq));
        if (_batches.TryGetValue((host.Shard, seq), out var first))
        {
            if (first.Outcome != outcome) sim.Fail($"agreement: shard {host.Shard} batch {seq}: r{first.Replica} [{first.Outcome}] vs r{host.Index} [{outcome}]");
        }
        else
        {
            _batches.Add((host.Shard, seq), (outcome, host.Index));
        }
        ledger.CheckInvariants();
    }

    public void AfterStep(SbacHost host)
    {
        if (host.Replica.StateDivergences > 0) sim.Fail($"s{host.Shard}r{host.Index}: its checkpoint digest was outvoted by 2f+1 replicas");
    }

    /// <summary>Every correct client's transaction is decided in every concerned shard and, if committed,
    /// created in its output shards, on every honest replica.</summary>
    public bool Quiescent(out string missing)
    {
        foreach (var (tx, correct) in sim.Universe.Transactions)
        {
            if (!correct) continue;
            foreach (uint shard in sim.Universe.ConcernedShards(tx))
            {
                if (!AllHonestDecided((int)shard, tx.Id, out missing)) return false;
            }
            if (!_decisions.TryGetValue(tx.Id, out var d) || d.Decision != Decision.Commit) continue;
            foreach (uint shard in sim.Universe.OutputShards(tx))
            {
                if (!AllHonestDecided((int)shard, tx.Id, out missing)) return false;
            }
        }
        missing = "";
        return true;
    }

    /// <summary>
    /// An honest replica may lag: PBFT promises progress to a quorum, and a replica that moved to a higher
    /// view alone (its peers never timed out) re-joins only with the next request or checkpoint, which a
    /// quiescent run never brings (seed 497). Lagging means executed less than the most advanced honest
    /// replica of its shard; at most f may lag, and the others must be complete.
    /// </summary>
    public bool IsLagging(SbacHost host)
    {
        ulong most = 0;
        foreach (var h in sim.Hosts[host.Shard]) if (h.Honest) most = Math.Max(most, h.Replica.LastExecuted);
        return host.Replica.LastExecuted < most;
    }

    private bool AllHonestDecided(int shard, in Hash256 txId, out string missing)
    {
        int lagging = 0, f = (sim.Hosts[shard].Length - 1) / 3;
        foreach (var h in sim.Hosts[shard])
        {
            if (!h.Honest) continue;
            if (IsLagging(h) && ++lagging <= f) continue;
            if (!h.Ledger.TryGetTransaction(txId, out var vote, out var final) || final is null)
            {
                missing = $"{txId.ToShortString()} undecided at s{shard}r{h.Index} (vote {vote?.ToString() ?? "none"})";
                return false;
            }
        }
        missing = "";
        return true;
    }

    public void AtEnd()
    {
        // Lagging replicas (see IsLagging) hold the state of an earlier sequence: their locks and supply
        // are those of that point, so the end-state checks look at the up-to-date honest replicas.
        var honest = sim.AllHosts.Where(h => h.Honest && !IsLagging(h)).ToArray();
        foreach (var h in honest) h.Ledger.CheckInvariants();
        // Correct transactions hold no lock anywhere once decided everywhere.
        foreach (var h in honest)
        {
            foreach (var (tx, correct) in sim.Universe.Transactions)
            {
                if (!correct) continue;
                foreach (var o in Universe.Inputs(tx))
                {
                    if (h.Ledger.Objects.GetState(o.Id, out var lockedBy) == ObjectState.Locked && lockedBy == tx.Id)
                        sim.Fail($"lock of decided {tx.Id.ToShortString()} on {o.Id.ToShortString()} survives at s{h.Shard}r{h.Index}");
                }
            }
        }
        var supply = new long?[sim.Options.Shards];
        foreach (var h in honest)
        {
            long shardSupply = 0;
            foreach (var o in sim.Universe.Objects)
            {
                var state = h.Ledger.Objects.GetState(o.Id);
                bool present = state is ObjectState.Active or ObjectState.Locked;
                if (sim.Universe.Map.ShardOf(o.Id) != h.Shard)
                {
                    if (state != ObjectState.Absent) sim.Fail($"{o.Id.ToShortString()} of shard {sim.Universe.Map.ShardOf(o.Id)} is {state} at s{h.Shard}r{h.Index}");
                    continue;
                }
                if (present && _consumedBy.TryGetValue(o.Id, out var consumer) && h.Ledger.TryGetTransaction(consumer, out _, out var final) && final is not null)
                    sim.Fail($"{o.Id.ToShortString()} consumed by committed {consumer.ToShortString()} is still {state} at s{h.Shard}r{h.Index}");
                if (present && Universe.IsAccount(o)) shardSupply += Universe.Balance(o);
            }
            if (supply[h.Shard] is { } other && other != shardSupply)
                sim.Fail($"shard {h.Shard}: honest replicas hold different CSCoin supplies ({other} vs {shardSupply} at r{h.Index})");
            supply[h.Shard] = shardSupply;
        }
        long total = supply.Sum(s => s ?? 0);
        if (supply.All(s => s is not null) && total != sim.Universe.GenesisSupply)
            sim.Fail($"CSCoin supply: genesis {sim.Universe.GenesisSupply}, now {total} ([{string.Join(",", supply)}])");
    }
}
