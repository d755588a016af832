using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Storage.Merkle;

namespace Chainspace.Sbac;

/// <summary>What the initiator asks its driver to do.</summary>
public enum InitiatorActionKind : byte
{
    /// <summary>Submit <see cref="InitiatorAction.Payload"/> (an S-BAC command) as a request to replicas of <see cref="InitiatorAction.Shard"/>
    /// (<see cref="InitiatorAction.RecipientCount"/> of them).</summary>
    SubmitCommand = 1,
    /// <summary>Ask replica <see cref="InitiatorAction.Node"/> for the body of <see cref="InitiatorAction.TransactionId"/>.</summary>
    FetchBody = 2,
}

/// <summary>
/// One thing the initiator asks its driver to do. The command bytes of <see cref="InitiatorActionKind.SubmitCommand"/>
/// live in the initiator's payload arena (<see cref="SbacInitiator.PayloadOf"/>, valid until
/// <see cref="SbacInitiator.ClearActions"/>); <see cref="Payload"/> also holds a copy when
/// <see cref="InitiatorOptions.CopyPayloads"/> is set.
/// </summary>
public readonly record struct InitiatorAction(InitiatorActionKind Kind, uint Shard, NodeId Node, Hash256 TransactionId, byte[]? Payload)
{
    public int PayloadOffset { get; init; }
    public int PayloadLength { get; init; }
    /// <summary>The command repeats one proposed before (a retry of a Create that no receipt answered in time).</summary>
    public bool Retry { get; init; }

    /// <summary>
    /// How many replicas of the target shard a <see cref="InitiatorActionKind.SubmitCommand"/> goes to, from replica 0
    /// up: every one for the initiator's own shard and for a retry, f+1 for the first attempt at another shard. f+1
    /// reach at least one correct replica, which orders the command or forwards it to its primary and starts the
    /// request timer that replaces a primary which ignores it, so the command is still sequenced with f faulty
    /// recipients, and the retry goes to all. Sent to all four replicas of a 2 × 4 cluster, a Create cost 4 frames
    /// and 3 forwards to the primary; to two (the primary of view 0 among them), 2 frames and one forward.
    /// </summary>
    public int RecipientCount(uint ownShard, int replicas) => Retry || Shard == ownShard ? replicas : Math.Min(replicas, (replicas - 1) / 3 + 1);
}

/// <summary>
/// The BFT-initiator of paper §IV-C, per replica (volatile, not replicated): it verifies incoming vote
/// batches, gathers LOCALPREPARED proofs, and once they establish ALLPREPARED(commit) or
/// SOMEPREPARED(abort) for a transaction its shard is concerned with, proposes Accept to its own shard;
/// for committed outputs that map to shards T does not concern, it proposes Create there, until each of
/// those shards' signed votes on its Create decision (f+1 of them) comes back.
///
/// Liveness (DESIGN.md): the primary proposes at once; every other replica waits
/// <see cref="InitiatorOptions.BackupDelayTicks"/> and then proposes too (Accept and Create are
/// idempotent: a shard decides a transaction once), and re-proposes with a growing delay until the
/// decision executes, so a silent primary delays a decision but cannot block it; PBFT's request timer
/// replaces that primary. A vote for a transaction this shard never prepared makes the replica fetch
/// the body from the voter and sequence an implicit Prepare, which is also what releases the locks of a
/// transaction whose client walked away after preparing it in one shard only.
///
/// Steady state allocates nothing (DESIGN.md, performance rules): pending transactions are pooled
/// objects in a table sized at start-up, bodies sit in an owned buffer pool, and commands are written
/// into one reusable payload arena.
/// </summary>
public sealed class SbacInitiator
{
    private sealed class Pending
    {
        public byte[]? Body;                 // T, once known (own prepare, or fetched): a pooled buffer
        public int BodyLength;
        public readonly uint[] Concerned;
        public int ConcernedCount;
        public readonly uint[] OutputShards; // outputs' shards that T does not concern: Create goes there
        public int OutputShardCount;
        public readonly ushort[] Acks;       // per output shard, the replicas whose signed Create vote came back
        public readonly int[] AckCounts;
        public Decision? OwnVote;
        public Decision? Decided;            // this shard's executed decision
        public long NextAcceptTick;
        public long NextCreateTick;
        public int Attempts;
        public bool BodyRequested;

        public Pending(int shards, int acksPerShard)
        {
            Concerned = new uint[shards];
            OutputShards = new uint[shards];
            Acks = new ushort[shards * acksPerShard];
            AckCounts = new int[shards];
        }

        public ReadOnlySpan<uint> ConcernedShards => Concerned.AsSpan(0, ConcernedCount);
        public ReadOnlySpan<uint> CreateShards => OutputShards.AsSpan(0, OutputShardCount);

        public void Reset()
        {
            Invariant.Check(Body is null);
            BodyLength = ConcernedCount = OutputShardCount = Attempts = 0;
            OwnVote = Decided = null;
            NextAcceptTick = NextCreateTick = 0;
            BodyRequested = false;
        }
    }

    private readonly ClusterConfig _config;
    private readonly NodeId _self;
    private readonly InitiatorOptions _options;
    private readonly ProofVerifier _verifier;
    private readonly VoteCollector _collector;
    private readonly ParsedTransaction _parsed;
    private readonly Dictionary<Hash256, Pending> _pending;
    private readonly Stack<Pending> _free = new();
    private readonly BodyPool _bodies = new();
    private readonly List<InitiatorAction> _actions = new(64);
    private readonly ArrayBufferWriter<byte> _payloads = new(64 * 1024);   // commands of the current actions
    private readonly ArrayBufferWriter<byte> _proofs = new(4 * 1024);       // scratch: one proof list
    // Per output shard, the Create entries proposed since the last seal: one Creates command per shard per input.
    private readonly ArrayBufferWriter<byte>[] _creates;
    private readonly int[] _createCounts;
    private readonly Hash256[] _createFirst;
    private readonly bool[] _createRetry;   // per shard: whether the Creates being gathered hold a retry
    private readonly Hash256[] _scratch = new Hash256[MerkleTree.MaxProofLength];
    private readonly uint[] _shards;
    private readonly uint[] _others;
    private readonly int _acksPerShard;
    private long _tick;
    // No pending retry is due before this tick: most ticks skip the scan of every pending transaction, which
    // was ~0.8 % of a node's CPU at saturation (a few hundred awaiting Create receipts, 200 ticks a second).
    private long _earliestDue = long.MaxValue;

    public SbacInitiator(ClusterConfig config, NodeId self, ProofVerifier verifier, InitiatorOptions? options = null)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _self = self;
        _verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        _options = (options ?? new InitiatorOptions()).Validate();
        _collector = new VoteCollector(config, _options.PendingTransactionsMax);
        _parsed = new ParsedTransaction(_options.Limits);
        _shards = new uint[config.Shards.Count];
        _others = new uint[config.Shards.Count];
        int weakMax = 1;
        foreach (var s in config.Shards) weakMax = Math.Max(weakMax, s.WeakQuorum);
        _acksPerShard = weakMax;
        _pending = new Dictionary<Hash256, Pending>(Math.Min(_options.PendingTransactionsMax, 1 << 16));
        _creates = new ArrayBufferWriter<byte>[config.Shards.Count];
        for (int i = 0; i < _creates.Length; i++) _creates[i] = new ArrayBufferWriter<byte>(4 * 1024);
        _createCounts = new int[config.Shards.Count];
        _createFirst = new Hash256[config.Shards.Count];
        _createRetry = new bool[config.Shards.Count];
    }

    /// <summary>Actions produced since the last <see cref="ClearActions"/>.</summary>
    public IReadOnlyList<InitiatorAction> Actions => _actions;

    /// <summary>The command bytes of a <see cref="InitiatorActionKind.SubmitCommand"/> action (valid until <see cref="ClearActions"/>).</summary>
    public ReadOnlySpan<byte> PayloadOf(in InitiatorAction action) =>
        action.Payload ?? _payloads.WrittenSpan.Slice(action.PayloadOffset, action.PayloadLength);

    public void ClearActions()
    {
        _actions.Clear();
        _payloads.ResetWrittenCount();
    }

    public int PendingTransactions => _pending.Count;
    public long RejectedVotes { get; private set; }

    // ---------------------------------------------------------------- inputs

    /// <summary>This replica's shard executed a batch: its votes (with bodies from the ledger) and decisions.</summary>
    public void OnBatchExecuted(ShardLedger ledger, bool isPrimary)
    {
        var votes = ledger.BatchVotes;
        for (int i = 0; i < votes.Length; i++)
        {
            // A vote on a Create decision is this shard's receipt for T's other shards: nothing to drive here. Nor is
            // there for a transaction decided here alone whose outputs all stay in this shard.
            if (!ledger.ConcernedShardsOfVote(i).Contains(_self.Shard) || !ledger.OwnShardUsesVote(i)) continue;
            var p = GetOrAdd(votes[i].TransactionId);
            if (p is null) continue;
            p.OwnVote = votes[i].Decision;
            if (p.Body is null) Learn(p, ledger.BodyOfVote(i));
        }
        var decisions = ledger.BatchDecisions;
        foreach (ref readonly var decision in decisions)
        {
            if (_pending.TryGetValue(decision.TransactionId, out var p)) p.Decided = decision.Decision;
        }
        // Decisions of this batch are known before anything is proposed for its votes.
        foreach (ref readonly var vote in votes)
        {
            if (_pending.TryGetValue(vote.TransactionId, out var p)) Advance(vote.TransactionId, p, isPrimary);
        }
        foreach (ref readonly var decision in decisions)
        {
            if (_pending.TryGetValue(decision.TransactionId, out var p)) Advance(decision.TransactionId, p, isPrimary);
        }
        SealCreates();
    }

    /// <summary>A vote batch from another replica (any shard). Invalid batches are counted and dropped.</summary>
    public void OnVotes(ReadOnlySpan<byte> message, NodeId from, ShardLedger ledger, bool isPrimary)
    {
        if (!VoteBatchMessage.TryDecode(message, out var m, out _) || m.Shard != from.Shard || m.Signer != from.Replica)
        {
            RejectedVotes++;
            return;
        }
        // The signature is checked the first time an entry is used: once f+1 replicas of a shard have proven every
        // transaction of a batch, the other replicas' copies of that batch cost no Ed25519 verification at all.
        bool signed = false;
        var entries = m.EnumerateEntries();
        while (entries.MoveNext())
        {
            var txId = entries.TransactionId;
            if (ledger.TryGetTransaction(txId, out _, out var final) && final is not null)
            {
                // Decided here already: the vote matters only for a Create this replica drives, as a concerned
                // shard's proof for it (its own shard's or another's: this replica may have executed an Accept
                // that another proposed before that shard's votes reached it, seed 321), or as an output
                // shard's receipt for it.
                if (!_pending.TryGetValue(txId, out var waiting)) continue;
                bool createProof = waiting.Decided == Decision.Commit && waiting.OutputShardCount > 0 && LeadsCreate(waiting)
                                   && waiting.ConcernedShards.Contains(m.Shard);
                if (!createProof)
                {
                    if (m.Shard != _self.Shard && entries.Decision == Decision.Commit && AwaitsReceipt(waiting, m.Shard, m.Signer))
                    {
                        if (!signed && !(signed = VerifySignature(m))) return;
                        if (VerifyEntry(m, ref entries)) OnReceipt(txId, waiting, m.Shard, m.Signer);
                    }
                    continue;
                }
            }
            // f+1 signatures already prove this shard's vote: more of them change nothing.
            if (_collector.TryGetLocalPrepared(txId, m.Shard, out _)) continue;
            if (!signed && !(signed = VerifySignature(m))) return;
            // The statement signature is verified above; a leaf already proven under this same root needs no path check.
            if (!_collector.HasGroup(txId, m.Shard, entries.Decision, m.Sequence, m.LeafCount, m.Root, entries.LeafIndex) && !VerifyEntry(m, ref entries)) continue;
            var p = GetOrAdd(txId);
            if (p is null) continue;
            int length = entries.Path.Length / Hash256.Size;
            for (int i = 0; i < length; i++) _scratch[i] = new Hash256(entries.Path.Slice(i * Hash256.Size, Hash256.Size));
            _collector.Add(txId, m.Shard, entries.Decision, m.Sequence, m.LeafCount, m.Root, entries.LeafIndex, _scratch.AsSpan(0, length), m.Signer, m.Signature);
            if (p.Body is null && p.OwnVote is null && !p.BodyRequested && m.Shard != _self.Shard)
            {
                // A vote for T that this shard has not prepared: fetch T and sequence an implicit Prepare.
                p.BodyRequested = true;
                _actions.Add(new InitiatorAction(InitiatorActionKind.FetchBody, m.Shard, from, txId, null));
            }
            Advance(txId, p, isPrimary);
        }
        SealCreates();
    }

    /// <summary>The body of T arrived (answer to FetchBody): checked against its id, then prepared here.</summary>
    public bool OnBody(in Hash256 txId, ReadOnlySpan<byte> body, bool isPrimary)
    {
        if (!_pending.TryGetValue(txId, out var p) || p.Body is not null) return false;
        if (!_parsed.TryParse(body, out _) || _parsed.ComputeIds(body) != txId) return false;
        Learn(p, body);
        if (p.OwnVote is null && p.ConcernedShards.Contains(_self.Shard))
        {
            int offset = _payloads.WrittenCount;
            SbacCommand.WritePrepare(_payloads, body);
            AddSubmit(_self.Shard, txId, offset);
        }
        Advance(txId, p, isPrimary);
        SealCreates();
        return true;
    }

    /// <summary>
    /// A tick of the driver's clock: retries what is due. <paramref name="ledger"/> (this replica's) lets a retry
    /// first learn a decision the replica got by state transfer rather than by executing its batch, which no
    /// <see cref="OnBatchExecuted"/> reported: without it such a transaction would re-propose its Accept forever
    /// and never drive its Create (seed 321).
    /// </summary>
    public void OnTick(bool isPrimary, ShardLedger ledger)
    {
        _tick++;
        if (_tick < _earliestDue) return;
        _earliestDue = long.MaxValue;
        foreach (var (txId, p) in _pending)
        {
            Decision? final = null;
            bool learned = p.Decided is null && p.NextAcceptTick > 0 && _tick >= p.NextAcceptTick
                           && ledger.TryGetTransaction(txId, out _, out final) && final is not null;
            if (learned)
            {
                p.Decided = final;
                p.NextAcceptTick = 0;
            }
            if (learned || (p.NextAcceptTick > 0 && _tick >= p.NextAcceptTick)) Advance(txId, p, isPrimary, retry: true);
            else if (p.NextCreateTick > 0 && _tick >= p.NextCreateTick) Advance(txId, p, isPrimary, retry: true);
            // Still pending (Forget returns it to the pool with both ticks 0): its next due tick counts.
            if (p.NextAcceptTick > 0) Due(p.NextAcceptTick);
            if (p.NextCreateTick > 0) Due(p.NextCreateTick);
        }
        SealCreates();
    }

    /// <summary>Keeps <see cref="_earliestDue"/> at or below every scheduled retry.</summary>
    private void Due(long tick) => _earliestDue = Math.Min(_earliestDue, tick);

    // ---------------------------------------------------------------- decisions

    private void Advance(in Hash256 txId, Pending p, bool isPrimary, bool retry = false)
    {
        if (p.Body is null) return;   // Φ(T) unknown yet
        bool concerned = p.ConcernedShards.Contains(_self.Shard);
        if (p.Decided is null && concerned)
        {
            var outcome = _collector.Outcome(txId, p.ConcernedShards, _self.Shard, p.OwnVote);
            if (outcome is null || p.OwnVote is null) return;
            bool due = isPrimary ? p.NextAcceptTick == 0 || retry : (p.NextAcceptTick > 0 && _tick >= p.NextAcceptTick);
            if (p.NextAcceptTick == 0 && !isPrimary)
            {
                p.NextAcceptTick = _tick + _options.BackupDelayTicks;
                Due(p.NextAcceptTick);
                return;
            }
            if (!due) return;
            ProposeAccept(txId, p, outcome.Value);
            return;
        }
        if (p.Decided == Decision.Commit && p.OutputShardCount > 0 && LeadsCreate(p))
        {
            bool due = isPrimary ? p.NextCreateTick == 0 || retry : (p.NextCreateTick > 0 && _tick >= p.NextCreateTick);
            if (p.NextCreateTick == 0 && !isPrimary)
            {
                p.NextCreateTick = _tick + _options.BackupDelayTicks;
                Due(p.NextCreateTick);
                return;
            }
            if (!due) return;
            ProposeCreate(txId, p);
            return;
        }
        if (p.Decided is not null) Forget(txId, p);
    }

    private void ProposeAccept(in Hash256 txId, Pending p, Decision outcome)
    {
        int others = 0;
        foreach (uint s in p.ConcernedShards)
        {
            if (s != _self.Shard) _others[others++] = s;
        }
        _proofs.ResetWrittenCount();
        _collector.WriteProofs(_proofs, txId, _others.AsSpan(0, others), outcome);
        int offset = _payloads.WrittenCount;
        SbacCommand.WriteAccept(_payloads, txId, outcome, _proofs.WrittenSpan);
        AddSubmit(_self.Shard, txId, offset);
        p.Attempts++;
        p.NextAcceptTick = _tick + Backoff(p.Attempts);
        Due(p.NextAcceptTick);
    }

    private void ProposeCreate(in Hash256 txId, Pending p)
    {
        _proofs.ResetWrittenCount();
        int count = _collector.WriteProofs(_proofs, txId, p.ConcernedShards, Decision.Commit);
        if (count < p.ConcernedCount) return;   // own shard's proof still being collected
        var body = p.Body.AsSpan(0, p.BodyLength);
        bool retry = p.Attempts > 0;
        foreach (uint shard in p.CreateShards)
        {
            if (p.AckCounts[shard] >= _config.Shards[(int)shard].WeakQuorum) continue;   // created there already
            QueueCreate(shard, txId, body, _proofs.WrittenSpan, retry);
        }
        p.Attempts++;
        p.NextCreateTick = _tick + Backoff(p.Attempts);
        Due(p.NextCreateTick);
        if (p.Attempts >= _options.CreateAttemptsMax) Forget(txId, p);
    }

    /// <summary>
    /// Adds one Create to the command being gathered for <paramref name="shard"/>; <see cref="SealCreates()"/> proposes
    /// it. Every Create a batch's votes make ready is proposed in the same input, so they go as one command.
    /// </summary>
    private void QueueCreate(uint shard, in Hash256 txId, ReadOnlySpan<byte> body, ReadOnlySpan<byte> proofs, bool retry)
    {
        int entry = SbacCommand.CreateEntryLength(body.Length, proofs.Length);
        var entries = _creates[shard];
        if (_createCounts[shard] > 0 && (SbacCommand.CreatesHeaderBytesMax + entries.WrittenCount + entry > _options.CommandBytesMax
                                         || _createCounts[shard] == SbacCommand.CreatesMax))
            SealCreates(shard);
        SbacCommand.WriteCreateEntry(entries, body, proofs);
        if (_createCounts[shard]++ == 0) _createFirst[shard] = txId;
        _createRetry[shard] |= retry;
    }

    /// <summary>Proposes what <see cref="QueueCreate"/> gathered: a Create for one entry, a Creates for more.</summary>
    private void SealCreates()
    {
        for (uint shard = 0; shard < _createCounts.Length; shard++) SealCreates(shard);
    }

    private void SealCreates(uint shard)
    {
        int count = _createCounts[shard];
        if (count == 0) return;
        var entries = _creates[shard];
        int offset = _payloads.WrittenCount;
        if (count == 1) SbacCommand.WriteCreate(_payloads, entries.WrittenSpan);
        else SbacCommand.WriteCreates(_payloads, count, entries.WrittenSpan);
        AddSubmit(shard, _createFirst[shard], offset, _createRetry[shard]);
        entries.ResetWrittenCount();
        _createCounts[shard] = 0;
        _createRetry[shard] = false;
    }

    private void AddSubmit(uint shard, in Hash256 txId, int offset, bool retry = false)
    {
        int length = _payloads.WrittenCount - offset;
        byte[]? copy = _options.CopyPayloads ? _payloads.WrittenSpan.Slice(offset, length).ToArray() : null;
        _actions.Add(new InitiatorAction(InitiatorActionKind.SubmitCommand, shard, default, txId, copy)
        {
            PayloadOffset = offset,
            PayloadLength = length,
            Retry = retry,
        });
    }

    /// <summary>Whether a signed commit vote of <paramref name="shard"/> on T is a Create receipt this replica still needs.</summary>
    private bool AwaitsReceipt(Pending p, uint shard, ushort replica)
    {
        if (p.Decided != Decision.Commit || !p.CreateShards.Contains(shard)) return false;
        var acks = p.Acks.AsSpan((int)shard * _acksPerShard, p.AckCounts[shard]);
        return acks.Length < _config.Shards[(int)shard].WeakQuorum && !acks.Contains(replica);
    }

    /// <summary>f+1 replicas of each output shard signed their Create decision: T is done here.</summary>
    private void OnReceipt(in Hash256 txId, Pending p, uint shard, ushort replica)
    {
        p.Acks[(int)shard * _acksPerShard + p.AckCounts[shard]++] = replica;
        foreach (uint s in p.CreateShards)
        {
            if (p.AckCounts[s] < _config.Shards[(int)s].WeakQuorum) return;
        }
        Forget(txId, p);
    }

    private bool VerifySignature(in VoteBatchMessage m)
    {
        var statement = _verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root);
        if (_verifier.VerifyStatement(m.Shard, m.Signer, statement, m.Signature)) return true;
        RejectedVotes++;
        return false;
    }

    private bool VerifyEntry(in VoteBatchMessage m, ref VoteBatchMessage.EntryEnumerator entries)
    {
        if (ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, entries.LeafIndex, entries.TransactionId, entries.Decision, entries.Path, _scratch)) return true;
        RejectedVotes++;
        return false;
    }

    /// <summary>The lowest concerned shard drives Create, so K concerned shards do not all send it.</summary>
    private bool LeadsCreate(Pending p)
    {
        if (p.ConcernedCount == 0) return false;
        uint lowest = uint.MaxValue;
        foreach (uint s in p.ConcernedShards) lowest = Math.Min(lowest, s);
        return lowest == _self.Shard;
    }

    private long Backoff(int attempts) => (long)_options.RetryDelayTicks << Math.Min(attempts - 1, 6);

    private void Learn(Pending p, ReadOnlySpan<byte> body)
    {
        if (!_parsed.TryParse(body, out _)) return;
        _parsed.ComputeIds(body);
        var bytes = _bodies.Rent(body.Length);
        body.CopyTo(bytes);
        p.Body = bytes;
        p.BodyLength = body.Length;
        p.ConcernedCount = _parsed.ConcernedShards(_config.ShardMap, p.Concerned);
        int outputs = _parsed.OutputShards(_config.ShardMap, _shards);
        p.OutputShardCount = 0;
        foreach (uint s in _shards.AsSpan(0, outputs))
        {
            if (!p.ConcernedShards.Contains(s)) p.OutputShards[p.OutputShardCount++] = s;
        }
    }

    private Pending? GetOrAdd(in Hash256 txId)
    {
        if (_pending.TryGetValue(txId, out var p)) return p;
        if (_pending.Count >= _options.PendingTransactionsMax) return null;   // bounded: the sender retries
        p = _free.Count > 0 ? _free.Pop() : new Pending(_shards.Length, _acksPerShard);
        _pending[txId] = p;
        return p;
    }

    private void Forget(in Hash256 txId, Pending p)
    {
        _pending.Remove(txId);
        _collector.Forget(txId);
        if (p.Body is { } body)
        {
            _bodies.Return(body);
            p.Body = null;
        }
        for (int s = 0; s < p.AckCounts.Length; s++) p.AckCounts[s] = 0;
        p.Reset();
        _free.Push(p);
    }
}

/// <summary>Initiator timing and bounds, in ticks of the driver's clock.</summary>
public sealed record InitiatorOptions
{
    /// <summary>How long a backup waits for the primary's Accept or Create before proposing it itself.</summary>
    public int BackupDelayTicks { get; init; } = 20;
    /// <summary>First re-proposal delay; doubles per attempt (capped at 64×).</summary>
    public int RetryDelayTicks { get; init; } = 40;
    public int CreateAttemptsMax { get; init; } = 8;
    public int PendingTransactionsMax { get; init; } = 1 << 16;
    /// <summary>Largest command proposed (a Creates command is cut to fit); at most the replicas' largest request operation.</summary>
    public int CommandBytesMax { get; init; } = 60 * 1024;
    /// <summary>Also copy each command into <see cref="InitiatorAction.Payload"/> (one array per action, for
    /// drivers that keep commands past <see cref="SbacInitiator.ClearActions"/>); off, commands are only in
    /// the payload arena and the steady state allocates nothing.</summary>
    public bool CopyPayloads { get; init; } = true;
    public CodecLimits Limits { get; init; } = CodecLimits.Default;

    public InitiatorOptions Validate()
    {
        if (BackupDelayTicks < 1) throw new ArgumentOutOfRangeException(nameof(BackupDelayTicks), "at least 1");
        if (RetryDelayTicks < 1) throw new ArgumentOutOfRangeException(nameof(RetryDelayTicks), "at least 1");
        if (CreateAttemptsMax < 1) throw new ArgumentOutOfRangeException(nameof(CreateAttemptsMax), "at least 1");
        if (PendingTransactionsMax < 1) throw new ArgumentOutOfRangeException(nameof(PendingTransactionsMax), "at least 1");
        if (CommandBytesMax < 1024) throw new ArgumentOutOfRangeException(nameof(CommandBytesMax), "at least 1 KiB");
        Limits.Validate();
        return this;
    }
}
