using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Storage.Merkle;

namespace Chainspace.Sbac;

/// <summary>What the initiator asks its driver to do.</summary>
public enum InitiatorActionKind : byte
{
    /// <summary>Submit <see cref="InitiatorAction.Payload"/> (an S-BAC command) as a request to every replica of <see cref="InitiatorAction.Shard"/>.</summary>
    SubmitCommand = 1,
    /// <summary>Ask replica <see cref="InitiatorAction.Node"/> for the body of <see cref="InitiatorAction.TransactionId"/>.</summary>
    FetchBody = 2,
}

public readonly record struct InitiatorAction(InitiatorActionKind Kind, uint Shard, NodeId Node, Hash256 TransactionId, byte[]? Payload);

/// <summary>
/// The BFT-initiator of paper §IV-C, per replica (volatile, not replicated): it verifies incoming vote
/// batches, gathers LOCALPREPARED proofs, and once they establish ALLPREPARED(commit) or
/// SOMEPREPARED(abort) for a transaction its shard is concerned with, proposes Accept to its own shard;
/// for committed outputs that map to shards T does not concern, it proposes Create there.
///
/// Liveness (DESIGN.md): the primary proposes at once; every other replica waits
/// <see cref="InitiatorOptions.BackupDelayTicks"/> and then proposes too (Accept and Create are
/// idempotent: a shard decides a transaction once), and re-proposes with a growing delay until the
/// decision executes, so a silent primary delays a decision but cannot block it; PBFT's request timer
/// replaces that primary. A vote for a transaction this shard never prepared makes the replica fetch
/// the body from the voter and sequence an implicit Prepare, which is also what releases the locks of a
/// transaction whose client walked away after preparing it in one shard only.
/// </summary>
public sealed class SbacInitiator
{
    private sealed class Pending
    {
        public byte[]? Body;                 // T, once known (own prepare, or fetched)
        public uint[] Concerned = [];
        public uint[] OutputShards = [];
        public Decision? OwnVote;
        public Decision? Decided;            // this shard's executed decision
        public long NextAcceptTick;
        public long NextCreateTick;
        public int Attempts;
        public bool BodyRequested;
    }

    private readonly ClusterConfig _config;
    private readonly NodeId _self;
    private readonly InitiatorOptions _options;
    private readonly ProofVerifier _verifier;
    private readonly VoteCollector _collector;
    private readonly ParsedTransaction _parsed;
    private readonly Dictionary<Hash256, Pending> _pending = [];
    private readonly List<InitiatorAction> _actions = [];
    private readonly Hash256[] _scratch = new Hash256[MerkleTree.MaxProofLength];
    private readonly uint[] _shards;
    private long _tick;

    public SbacInitiator(ClusterConfig config, NodeId self, ProofVerifier verifier, InitiatorOptions? options = null)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _self = self;
        _verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        _options = (options ?? new InitiatorOptions()).Validate();
        _collector = new VoteCollector(config, _options.PendingTransactionsMax);
        _parsed = new ParsedTransaction(_options.Limits);
        _shards = new uint[config.Shards.Count];
    }

    /// <summary>Actions produced since the last <see cref="ClearActions"/>.</summary>
    public IReadOnlyList<InitiatorAction> Actions => _actions;
    public void ClearActions() => _actions.Clear();
    public int PendingTransactions => _pending.Count;
    public long RejectedVotes { get; private set; }

    // ---------------------------------------------------------------- inputs

    /// <summary>This replica's shard executed a batch: its votes (with bodies from the ledger) and decisions.</summary>
    public void OnBatchExecuted(ShardLedger ledger, bool isPrimary)
    {
        var votes = ledger.BatchVotes;
        for (int i = 0; i < votes.Length; i++)
        {
            var vote = votes[i];
            var p = GetOrAdd(vote.TransactionId);
            if (p is null) continue;
            p.OwnVote = vote.Decision;
            if (p.Body is null) Learn(p, ledger.BodyOfVote(i));
        }
        foreach (var decision in ledger.BatchDecisions)
        {
            if (_pending.TryGetValue(decision.TransactionId, out var p)) p.Decided = decision.Decision;
        }
        // Decisions of this batch are known before anything is proposed for its votes.
        foreach (var vote in votes)
        {
            if (_pending.TryGetValue(vote.TransactionId, out var p)) Advance(vote.TransactionId, p, isPrimary);
        }
        foreach (var decision in ledger.BatchDecisions)
        {
            if (_pending.TryGetValue(decision.TransactionId, out var p)) Advance(decision.TransactionId, p, isPrimary);
        }
    }

    /// <summary>A vote batch from another replica (any shard). Invalid batches are counted and dropped.</summary>
    public void OnVotes(ReadOnlySpan<byte> message, NodeId from, ShardLedger ledger, bool isPrimary)
    {
        if (!VoteBatchMessage.TryDecode(message, out var m, out _) || m.Shard != from.Shard || m.Signer != from.Replica)
        {
            RejectedVotes++;
            return;
        }
        var statement = _verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root);
        if (!_verifier.VerifyStatement(m.Shard, m.Signer, statement, m.Signature))
        {
            RejectedVotes++;
            return;
        }
        var entries = m.EnumerateEntries();
        while (entries.MoveNext())
        {
            if (!ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, entries.LeafIndex, entries.TransactionId, entries.Decision, entries.Path, _scratch))
            {
                RejectedVotes++;
                continue;
            }
            var txId = entries.TransactionId;
            // Decided here already, and nothing left to do (a pending commit may still need its Create proofs,
            // which include this shard's own votes: those often arrive after this replica executed the decision).
            if (ledger.TryGetTransaction(txId, out _, out var final) && final is not null && !_pending.ContainsKey(txId)) continue;
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
    }

    /// <summary>The body of T arrived (answer to FetchBody): checked against its id, then prepared here.</summary>
    public bool OnBody(in Hash256 txId, ReadOnlySpan<byte> body, bool isPrimary)
    {
        if (!_pending.TryGetValue(txId, out var p) || p.Body is not null) return false;
        if (!_parsed.TryParse(body, out _) || _parsed.ComputeIds(body) != txId) return false;
        Learn(p, body);
        if (p.OwnVote is null && Array.IndexOf(p.Concerned, (uint)_self.Shard) >= 0)
        {
            var op = new ArrayBufferWriter<byte>();
            SbacCommand.WritePrepare(op, body);
            _actions.Add(new InitiatorAction(InitiatorActionKind.SubmitCommand, _self.Shard, default, txId, op.WrittenSpan.ToArray()));
        }
        Advance(txId, p, isPrimary);
        return true;
    }

    public void OnTick(bool isPrimary)
    {
        _tick++;
        foreach (var (txId, p) in _pending)
        {
            if (p.NextAcceptTick > 0 && _tick >= p.NextAcceptTick) Advance(txId, p, isPrimary, retry: true);
            else if (p.NextCreateTick > 0 && _tick >= p.NextCreateTick) Advance(txId, p, isPrimary, retry: true);
        }
    }

    // ---------------------------------------------------------------- decisions

    private void Advance(in Hash256 txId, Pending p, bool isPrimary, bool retry = false)
    {
        if (p.Body is null) return;   // Φ(T) unknown yet
        bool concerned = Array.IndexOf(p.Concerned, (uint)_self.Shard) >= 0;
        if (p.Decided is null && concerned)
        {
            var outcome = _collector.Outcome(txId, p.Concerned, _self.Shard, p.OwnVote);
            if (outcome is null || p.OwnVote is null) return;
            bool due = isPrimary ? p.NextAcceptTick == 0 || retry : (p.NextAcceptTick > 0 && _tick >= p.NextAcceptTick);
            if (p.NextAcceptTick == 0 && !isPrimary)
            {
                p.NextAcceptTick = _tick + _options.BackupDelayTicks;
                return;
            }
            if (!due) return;
            ProposeAccept(txId, p, outcome.Value);
            return;
        }
        if (p.Decided == Decision.Commit && p.OutputShards.Length > 0 && LeadsCreate(p))
        {
            bool due = isPrimary ? p.NextCreateTick == 0 || retry : (p.NextCreateTick > 0 && _tick >= p.NextCreateTick);
            if (p.NextCreateTick == 0 && !isPrimary)
            {
                p.NextCreateTick = _tick + _options.BackupDelayTicks;
                return;
            }
            if (!due) return;
            ProposeCreate(txId, p);
            return;
        }
        if (p.Decided is not null) Forget(txId);
    }

    private void ProposeAccept(in Hash256 txId, Pending p, Decision outcome)
    {
        var proofs = new ArrayBufferWriter<byte>();
        var others = p.Concerned.Where(s => s != _self.Shard).ToArray();
        _collector.WriteProofs(proofs, txId, others, outcome);
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WriteAccept(op, txId, outcome, proofs.WrittenSpan);
        _actions.Add(new InitiatorAction(InitiatorActionKind.SubmitCommand, _self.Shard, default, txId, op.WrittenSpan.ToArray()));
        p.Attempts++;
        p.NextAcceptTick = _tick + Backoff(p.Attempts);
    }

    private void ProposeCreate(in Hash256 txId, Pending p)
    {
        var proofs = new ArrayBufferWriter<byte>();
        int count = _collector.WriteProofs(proofs, txId, p.Concerned, Decision.Commit);
        if (count < p.Concerned.Length) return;   // own shard's proof still being collected
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WriteCreate(op, p.Body, proofs.WrittenSpan);
        byte[] command = op.WrittenSpan.ToArray();
        foreach (uint shard in p.OutputShards)
            _actions.Add(new InitiatorAction(InitiatorActionKind.SubmitCommand, shard, default, txId, command));
        p.Attempts++;
        p.NextCreateTick = _tick + Backoff(p.Attempts);
        if (p.Attempts >= _options.CreateAttemptsMax) Forget(txId);
    }

    /// <summary>The lowest concerned shard drives Create, so K concerned shards do not all send it.</summary>
    private bool LeadsCreate(Pending p) => p.Concerned.Length > 0 && p.Concerned.Min() == _self.Shard;

    private long Backoff(int attempts) => (long)_options.RetryDelayTicks << Math.Min(attempts - 1, 6);

    private void Learn(Pending p, ReadOnlySpan<byte> body)
    {
        if (!_parsed.TryParse(body, out _)) return;
        _parsed.ComputeIds(body);
        p.Body = body.ToArray();
        p.Concerned = _shards.AsSpan(0, _parsed.ConcernedShards(_config.ShardMap, _shards)).ToArray();
        var outputs = _shards.AsSpan(0, _parsed.OutputShards(_config.ShardMap, _shards)).ToArray();
        p.OutputShards = outputs.Where(s => Array.IndexOf(p.Concerned, s) < 0).ToArray();
    }

    private Pending? GetOrAdd(in Hash256 txId)
    {
        if (_pending.TryGetValue(txId, out var p)) return p;
        if (_pending.Count >= _options.PendingTransactionsMax) return null;   // bounded: the sender retries
        p = new Pending();
        _pending[txId] = p;
        return p;
    }

    private void Forget(in Hash256 txId)
    {
        _pending.Remove(txId);
        _collector.Forget(txId);
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
    public CodecLimits Limits { get; init; } = CodecLimits.Default;

    public InitiatorOptions Validate()
    {
        if (BackupDelayTicks < 1) throw new ArgumentOutOfRangeException(nameof(BackupDelayTicks), "at least 1");
        if (RetryDelayTicks < 1) throw new ArgumentOutOfRangeException(nameof(RetryDelayTicks), "at least 1");
        if (CreateAttemptsMax < 1) throw new ArgumentOutOfRangeException(nameof(CreateAttemptsMax), "at least 1");
        if (PendingTransactionsMax < 1) throw new ArgumentOutOfRangeException(nameof(PendingTransactionsMax), "at least 1");
        Limits.Validate();
        return this;
    }
}
