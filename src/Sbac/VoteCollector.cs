using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac;

/// <summary>
/// Gathers cross-shard votes into LOCALPREPARED proofs (per replica, not replicated state).
///
/// A vote is one replica's signature over one executed batch's vote statement (see
/// <see cref="VoteStatement"/>) plus one transaction's leaf and audit path in that batch. Votes are
/// grouped by (T, shard, decision, sequence, root): honest replicas of a shard execute the same batch
/// and sign the same statement, so f+1 distinct signers in one group form the proof. A Byzantine
/// replica signing something else lands in a group of its own and cannot complete it alone.
/// Callers verify signatures and paths before adding (the collector trusts what it is given).
/// Memory is bounded: at most <see cref="TransactionsMax"/> transactions pending; past that, new
/// transactions are refused (the sender will retry), never silently evicted.
/// </summary>
public sealed class VoteCollector
{
    private sealed class Group
    {
        public required uint Shard;
        public required Decision Decision;
        public required ulong Sequence;
        public required ulong LeafCount;
        public required Hash256 Root;
        public required ulong LeafIndex;
        public required Hash256[] Path;
        public readonly List<(ushort Replica, byte[] Signature)> Signatures = [];
    }

    private readonly ClusterConfig _config;
    private readonly Dictionary<Hash256, List<Group>> _pending = [];

    public VoteCollector(ClusterConfig config, int transactionsMax = 1 << 16)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        if (transactionsMax < 1) throw new ArgumentOutOfRangeException(nameof(transactionsMax));
        TransactionsMax = transactionsMax;
    }

    public int TransactionsMax { get; }
    public int PendingTransactions => _pending.Count;

    public enum AddResult : byte { Added, Duplicate, Completed, Full, UnknownReplica }

    /// <summary>Adds one verified vote. Returns <see cref="AddResult.Completed"/> when this vote made the group reach f+1.</summary>
    public AddResult Add(in Hash256 txId, uint shard, Decision decision, ulong sequence, ulong leafCount, in Hash256 root,
        ulong leafIndex, ReadOnlySpan<Hash256> path, ushort replica, ReadOnlySpan<byte> signature)
    {
        if (shard >= _config.Shards.Count || replica >= _config.Shards[(int)shard].N) return AddResult.UnknownReplica;
        if (!_pending.TryGetValue(txId, out var groups))
        {
            if (_pending.Count >= TransactionsMax) return AddResult.Full;
            groups = [];
            _pending[txId] = groups;
        }
        Group? group = null;
        foreach (var g in groups)
        {
            if (g.Shard == shard && g.Decision == decision && g.Sequence == sequence && g.Root == root && g.LeafIndex == leafIndex && g.LeafCount == leafCount)
            {
                group = g;
                break;
            }
        }
        if (group is null)
        {
            group = new Group
            {
                Shard = shard, Decision = decision, Sequence = sequence, LeafCount = leafCount, Root = root,
                LeafIndex = leafIndex, Path = path.ToArray(),
            };
            groups.Add(group);
        }
        int needed = _config.Shards[(int)shard].WeakQuorum;
        if (group.Signatures.Count >= needed) return AddResult.Duplicate;   // already complete
        foreach (var (r, _) in group.Signatures)
        {
            if (r == replica) return AddResult.Duplicate;
        }
        group.Signatures.Add((replica, signature.ToArray()));
        return group.Signatures.Count == needed ? AddResult.Completed : AddResult.Added;
    }

    /// <summary>The decision shard <paramref name="shard"/> proved for T, if a group is complete.</summary>
    public bool TryGetLocalPrepared(in Hash256 txId, uint shard, out Decision decision)
    {
        decision = default;
        if (!_pending.TryGetValue(txId, out var groups)) return false;
        int needed = _config.Shards[(int)shard].WeakQuorum;
        foreach (var g in groups)
        {
            if (g.Shard == shard && g.Signatures.Count >= needed)
            {
                decision = g.Decision;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// What the proofs held for T establish over its concerned shards: SOMEPREPARED(abort) as soon as one
    /// concerned shard proved abort, ALLPREPARED(commit) once every concerned shard proved commit.
    /// <paramref name="ownShard"/> and <paramref name="ownVote"/> let a replica count its own shard's vote
    /// (paper §V-A: a node concludes LOCALPREPARED for its own shard from its own execution).
    /// </summary>
    public Decision? Outcome(in Hash256 txId, ReadOnlySpan<uint> concerned, uint ownShard, Decision? ownVote)
    {
        bool all = true;
        foreach (uint s in concerned)
        {
            Decision? d = s == ownShard && ownVote is { } v ? v : TryGetLocalPrepared(txId, s, out var proved) ? proved : null;
            if (d == Decision.Abort) return Decision.Abort;
            if (d is null) all = false;
        }
        return all ? Decision.Commit : null;
    }

    /// <summary>
    /// Writes the proof list for T: one complete proof per listed shard that has one with
    /// <paramref name="decision"/> (for abort, the first complete abort proof suffices). Returns how many.
    /// </summary>
    public int WriteProofs(IBufferWriter<byte> output, in Hash256 txId, ReadOnlySpan<uint> shards, Decision decision)
    {
        var selected = new List<Group>();
        if (_pending.TryGetValue(txId, out var groups))
        {
            foreach (uint s in shards)
            {
                int needed = _config.Shards[(int)s].WeakQuorum;
                foreach (var g in groups)
                {
                    if (g.Shard != s || g.Decision != decision || g.Signatures.Count < needed) continue;
                    selected.Add(g);
                    break;
                }
                if (decision == Decision.Abort && selected.Count > 0) break;
            }
        }
        var count = output.GetSpan(10);
        var w = new SpanWriter(count);
        w.WriteVarUInt64((ulong)selected.Count);
        output.Advance(w.Written);
        foreach (var g in selected)
        {
            int needed = _config.Shards[(int)g.Shard].WeakQuorum;
            LocalPreparedProof.Write(output, g.Shard, g.Sequence, g.LeafCount, g.Root, g.LeafIndex, g.Decision, g.Path,
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(g.Signatures)[..needed]);
        }
        return selected.Count;
    }

    /// <summary>Drops everything held for T (after its decision executed here).</summary>
    public void Forget(in Hash256 txId) => _pending.Remove(txId);
}
