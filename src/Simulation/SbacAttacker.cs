using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Core;
using Chainspace.Sbac;

namespace Chainspace.Simulation;

/// <summary>
/// S-BAC misbehaviour of a Byzantine replica (<see cref="SbacAttack"/>): equivocating vote batches (every
/// decision flipped, validly signed with its own key), replayed vote batches and Accepts, Accepts without or
/// with foreign proofs, and wrong bodies for fetches. It runs the real replica otherwise, and only ever
/// signs and sends as itself.
/// </summary>
public sealed class SbacAttacker(MultiShardSimulator sim, SbacHost host, SbacAttack mode, SimRandom random)
{
    private const int Memory = 64;
    /// <summary>Injections per tick and attack. Kept low: PBFT's request queue has no per-client fairness, so
    /// a replica flooding its shard with requests starves honest ones (a denial of service, not a safety
    /// question, and outside what this simulator checks).</summary>
    private const double RatePerTick = 0.03;
    private readonly List<(int Shard, byte[] Message)> _ownVotes = new();
    private readonly List<byte[]> _accepts = new();
    private readonly List<(Hash256 Id, byte[] Body)> _voted = new();
    private readonly Dictionary<(ulong Sequence, uint Shard), byte[]> _flipped = new();
    private VoteSigner? _equivocator;

    public void OnBatch(ulong sequence)
    {
        var ledger = host.Ledger;
        var votes = ledger.BatchVotes;
        for (int i = 0; i < votes.Length; i++) Remember(_voted, (votes[i].TransactionId, ledger.BodyOfVote(i).ToArray()));
        if (!mode.HasFlag(SbacAttack.EquivocateVotes) || votes.IsEmpty) return;
        // The same batch statement position, every decision flipped: a second, validly signed vote batch.
        var flipped = new VoteEntry[votes.Length];
        for (int i = 0; i < votes.Length; i++) flipped[i] = new VoteEntry(votes[i].TransactionId, votes[i].Decision == Decision.Commit ? Decision.Abort : Decision.Commit);
        _equivocator ??= new VoteSigner(sim.Config, host.Node, host.VoteKey, 1024);
        if (!_equivocator.SignBatch(sequence, flipped)) return;
        if (_flipped.Count > Memory) _flipped.Clear();
        for (uint shard = 0; shard < ledger.ShardCount; shard++)
        {
            var indexes = new List<int>();
            for (int i = 0; i < votes.Length; i++)
            {
                if (ledger.ConcernedShardsOfVote(i).Contains(shard)) indexes.Add(i);
            }
            if (indexes.Count == 0) continue;
            var output = new ArrayBufferWriter<byte>();
            _equivocator.WriteMessage(output, flipped, indexes.ToArray());
            _flipped[(sequence, shard)] = output.WrittenSpan.ToArray();
        }
    }

    /// <summary>What this replica sends to replica <paramref name="replica"/> of <paramref name="shard"/> instead of its true vote batch.</summary>
    public byte[] RewriteVotes(uint shard, int replica, byte[] message)
    {
        if (mode.HasFlag(SbacAttack.ReplayVotes) && replica == 0) Remember(_ownVotes, ((int)shard, message));
        if (!mode.HasFlag(SbacAttack.EquivocateVotes) || !VoteBatchMessage.TryDecode(message, out var m, out _)) return message;
        if ((replica + (int)m.Sequence) % 2 == 0 && _flipped.TryGetValue((m.Sequence, shard), out var flipped)) return flipped;
        return message;
    }

    public void ObserveRequest(byte[] message)
    {
        if (!mode.HasFlag(SbacAttack.ReplayAccepts) && !mode.HasFlag(SbacAttack.ForgeAccepts)) return;
        if (!Wire.TryReadRequest(message, int.MaxValue, out var request)) return;
        if (SbacCommand.TryDecode(request.Operation, Core.Codec.CodecLimits.Default, out var command, out _) && command.Kind == SbacCommandKind.Accept && command.ProofCount > 0)
        {
            Remember(_accepts, request.Operation.ToArray());
        }
    }

    public void ObserveVotes(Chainspace.Core.Cluster.NodeId from, byte[] message)
    {
        // Others' votes cannot be relayed under their identity (the sender is authenticated); a replayed
        // batch from this replica is its own (see ReplayVotes).
    }

    public void OnTick()
    {
        int shards = sim.Options.Shards;
        if (mode.HasFlag(SbacAttack.ReplayVotes) && _ownVotes.Count > 0 && random.Chance(RatePerTick))
        {
            var (shard, message) = _ownVotes[random.Next(_ownVotes.Count)];
            int target = random.Chance(0.5) ? shard : random.Next(shards);
            sim.SendVotes(host.Node, target, random.Next(sim.Options.Replicas), message);
        }
        if (mode.HasFlag(SbacAttack.ReplayAccepts) && _accepts.Count > 0 && random.Chance(RatePerTick))
        {
            host.Submit(random.Next(shards), _accepts[random.Next(_accepts.Count)]);
        }
        if (mode.HasFlag(SbacAttack.ForgeAccepts) && _voted.Count > 0 && random.Chance(RatePerTick)) ForgeAccept();
    }

    private void ForgeAccept()
    {
        var (txId, _) = _voted[random.Next(_voted.Count)];
        var decision = random.Chance(0.5) ? Decision.Commit : Decision.Abort;
        ReadOnlySpan<byte> proofs = [0];
        byte[]? foreign = null;
        if (_accepts.Count > 0 && random.Chance(0.5))
        {
            // Another transaction's valid proofs, transplanted.
            foreign = _accepts[random.Next(_accepts.Count)];
            if (SbacCommand.TryDecode(foreign, Core.Codec.CodecLimits.Default, out var command, out _) && command.TransactionId != txId)
            {
                decision = command.Decision;
                proofs = command.Proofs;
            }
        }
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WriteAccept(op, txId, decision, proofs);
        host.Submit(random.Chance(0.7) ? host.Shard : random.Next(sim.Options.Shards), op.WrittenSpan.ToArray());
    }

    /// <summary>True if the attacker answered the fetch itself (with a wrong body).</summary>
    public bool AnswerFetch(Chainspace.Core.Cluster.NodeId from, Hash256 txId)
    {
        if (!mode.HasFlag(SbacAttack.BadBodies) || _voted.Count == 0 || random.Chance(0.3)) return false;
        var (otherId, body) = _voted[random.Next(_voted.Count)];
        var wrong = (byte[])body.Clone();
        if (otherId == txId || random.Chance(0.5)) wrong[1 + random.Next(wrong.Length - 1)] ^= (byte)(1 + random.Next(255));
        sim.SendBody(host.Node, from, txId, wrong);
        return true;
    }

    private void Remember<T>(List<T> list, T item)
    {
        if (list.Count < Memory) list.Add(item);
        else list[random.Next(Memory)] = item;
    }
}
