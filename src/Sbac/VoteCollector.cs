using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Storage.Merkle;

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
/// Groups and per-transaction lists are pooled and the table is sized at start-up, so the steady state
/// allocates nothing.
/// </summary>
public sealed class VoteCollector
{
    private sealed class Group
    {
        public uint Shard;
        public Decision Decision;
        public ulong Sequence;
        public ulong LeafCount;
        public Hash256 Root;
        public ulong LeafIndex;
        public readonly Hash256[] Path = new Hash256[MerkleTree.MaxProofLength];
        public int PathLength;
        public readonly (ushort Replica, byte[] Signature)[] Signatures;   // f+1 slots, buffers reused
        public int SignatureCount;

        public Group(int slots)
        {
            Signatures = new (ushort, byte[])[slots];
            for (int i = 0; i < slots; i++) Signatures[i] = (0, new byte[IReplicaSignatureSize]);
        }
    }

    private const int IReplicaSignatureSize = 64;

    private readonly ClusterConfig _config;
    private readonly Dictionary<Hash256, List<Group>> _pending;
    private readonly Stack<List<Group>> _freeLists = new();
    private readonly Stack<Group> _freeGroups = new();
    private readonly Group[] _selected;
    private readonly int _slots;

    public VoteCollector(ClusterConfig config, int transactionsMax = 1 << 16)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        if (transactionsMax < 1) throw new ArgumentOutOfRangeException(nameof(transactionsMax));
        TransactionsMax = transactionsMax;
        _pending = new Dictionary<Hash256, List<Group>>(Math.Min(transactionsMax, 1 << 16));
        _selected = new Group[config.Shards.Count];
        foreach (var s in config.Shards) _slots = Math.Max(_slots, s.WeakQuorum);
    }

    public int TransactionsMax { get; }
    public int PendingTransactions => _pending.Count;

    public enum AddResult : byte { Added, Duplicate, Completed, Full, UnknownReplica }

    /// <summary>Adds one verified vote. Returns <see cref="AddResult.Completed"/> when this vote made the group reach f+1.</summary>
    public AddResult Add(in Hash256 txId, uint shard, Decision decision, ulong sequence, ulong leafCount, in Hash256 root,
        ulong leafIndex, ReadOnlySpan<Hash256> path, ushort replica, ReadOnlySpan<byte> signature)
    {
        if (shard >= _config.Shards.Count || replica >= _config.Shards[(int)shard].N) return AddResult.UnknownReplica;
        if (path.Length > MerkleTree.MaxProofLength || signature.Length != IReplicaSignatureSize)
            throw new ArgumentException($"a path holds at most {MerkleTree.MaxProofLength} hashes and a signature is {IReplicaSignatureSize} bytes");
        if (!_pending.TryGetValue(txId, out var groups))
        {
            if (_pending.Count >= TransactionsMax) return AddResult.Full;
            groups = _freeLists.Count > 0 ? _freeLists.Pop() : new List<Group>(2);
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
            group = _freeGroups.Count > 0 ? _freeGroups.Pop() : new Group(_slots);
            group.Shard = shard;
            group.Decision = decision;
            group.Sequence = sequence;
            group.LeafCount = leafCount;
            group.Root = root;
            group.LeafIndex = leafIndex;
            path.CopyTo(group.Path);
            group.PathLength = path.Length;
            group.SignatureCount = 0;
            groups.Add(group);
        }
        int needed = _config.Shards[(int)shard].WeakQuorum;
        if (group.SignatureCount >= needed) return AddResult.Duplicate;   // already complete
        for (int i = 0; i < group.SignatureCount; i++)
        {
            if (group.Signatures[i].Replica == replica) return AddResult.Duplicate;
        }
        ref var slot = ref group.Signatures[group.SignatureCount++];
        slot.Replica = replica;
        signature.CopyTo(slot.Signature);
        return group.SignatureCount == needed ? AddResult.Completed : AddResult.Added;
    }

    /// <summary>
    /// Whether a vote for exactly this leaf under exactly this signed statement is held already. Its audit path was
    /// verified when it was added, so another replica's vote for the same group needs only its (cached) statement
    /// signature checked, not the path hashed again.
    /// </summary>
    public bool HasGroup(in Hash256 txId, uint shard, Decision decision, ulong sequence, ulong leafCount, in Hash256 root, ulong leafIndex)
    {
        if (!_pending.TryGetValue(txId, out var groups)) return false;
        foreach (var g in groups)
        {
            if (g.Shard == shard && g.Decision == decision && g.Sequence == sequence && g.Root == root && g.LeafIndex == leafIndex && g.LeafCount == leafCount) return true;
        }
        return false;
    }

    /// <summary>The decision shard <paramref name="shard"/> proved for T, if a group is complete.</summary>
    public bool TryGetLocalPrepared(in Hash256 txId, uint shard, out Decision decision)
    {
        decision = default;
        if (!_pending.TryGetValue(txId, out var groups)) return false;
        int needed = _config.Shards[(int)shard].WeakQuorum;
        foreach (var g in groups)
        {
            if (g.Shard == shard && g.SignatureCount >= needed)
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
        int selected = 0;
        if (_pending.TryGetValue(txId, out var groups))
        {
            foreach (uint s in shards)
            {
                int needed = _config.Shards[(int)s].WeakQuorum;
                foreach (var g in groups)
                {
                    if (g.Shard != s || g.Decision != decision || g.SignatureCount < needed) continue;
                    if (selected == _selected.Length) break;
                    _selected[selected++] = g;
                    break;
                }
                if (decision == Decision.Abort && selected > 0) break;
            }
        }
        var count = output.GetSpan(10);
        var w = new SpanWriter(count);
        w.WriteVarUInt64((ulong)selected);
        output.Advance(w.Written);
        for (int i = 0; i < selected; i++)
        {
            var g = _selected[i];
            _selected[i] = null!;
            int needed = _config.Shards[(int)g.Shard].WeakQuorum;
            LocalPreparedProof.Write(output, g.Shard, g.Sequence, g.LeafCount, g.Root, g.LeafIndex, g.Decision,
                g.Path.AsSpan(0, g.PathLength), g.Signatures.AsSpan(0, needed));
        }
        return selected;
    }

    /// <summary>Drops everything held for T (after its decision executed here).</summary>
    public void Forget(in Hash256 txId)
    {
        if (!_pending.Remove(txId, out var groups)) return;
        foreach (var g in groups) _freeGroups.Push(g);
        groups.Clear();
        _freeLists.Push(groups);
    }
}
