using System.Buffers;
using System.Runtime.InteropServices;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Validation;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac;

/// <summary>A (T id, decision) pair produced while executing a batch.</summary>
public readonly record struct VoteEntry(Hash256 TransactionId, Decision Decision);

/// <summary>Settings of one shard's ledger, validated at construction.</summary>
public sealed record ShardLedgerOptions
{
    public required ushort Shard { get; init; }
    public required ShardMap Map { get; init; }
    public required ContractRegistry Contracts { get; init; }
    public CodecLimits Limits { get; init; } = CodecLimits.Default;
    /// <summary>Transactions remembered before the table first grows (sized at start-up: no resize on the hot path).</summary>
    public int TransactionsCapacity { get; init; } = 1 << 16;
    /// <summary>Most votes one batch can produce (one per request).</summary>
    public int BatchVotesMax { get; init; } = 8192;
    /// <summary>Planted bugs for the simulator's self-test; never set outside tests.</summary>
    public SbacBugs PlantedBugs { get; init; }

    public ShardLedgerOptions Validate()
    {
        if (Shard >= Map.ShardCount) throw new ArgumentOutOfRangeException(nameof(Shard), $"shard {Shard} is not below the shard count {Map.ShardCount}");
        if (TransactionsCapacity < 16) throw new ArgumentOutOfRangeException(nameof(TransactionsCapacity), "at least 16");
        if (BatchVotesMax < 1) throw new ArgumentOutOfRangeException(nameof(BatchVotesMax), "at least 1");
        Limits.Validate();
        return this;
    }
}

/// <summary>
/// The replicated S-BAC state of one shard (paper §IV-C), executed command by command in PBFT order,
/// pure and deterministic: every honest replica of the shard reaches the same votes, decisions and
/// object states from the same log.
///
/// - Prepare(T): vote commit iff this shard is concerned, T passes Fig. 2 for the objects this shard
///   manages (active and not locked) and the checkers of contracts whose objects it manages; a commit
///   vote locks those inputs and references. A transaction id is voted on at most once: a repeated or
///   replayed Prepare returns the recorded vote or decision and changes nothing.
/// - Accept(T, d, proofs): decided at most once; commit needs this shard's own commit vote plus a valid
///   LOCALPREPARED(commit) for every other concerned shard; abort needs this shard's own abort vote or
///   a valid LOCALPREPARED(abort) from one concerned shard. Commit consumes the inputs, unlocks the
///   references and creates the outputs this shard manages; abort releases the locks.
/// - Create(T, proofs): for a shard T does not concern, creates the outputs it manages on
///   ALLPREPARED(commit) — a valid commit proof from every concerned shard. Creates(...) is several of
///   them in one command, each decided on its own.
/// When this shard is the only concerned one, its vote is the decision: Prepare decides at once.
/// </summary>
public sealed partial class ShardLedger
{
    private struct TxRecord
    {
        public Decision? Vote;
        public Decision? Final;
        public byte[]? Body;       // pooled copy of T while undecided (Accept needs it; peers may fetch it)
        public int BodyLength;
        public bool HoldsLocks;    // its commit vote locked objects here that its decision must release
    }

    private readonly ShardLedgerOptions _options;
    private ObjectStore _objects;
    private readonly IProofVerifier _verifier;
    private readonly ParsedTransaction _parsed;
    private readonly TransactionValidator _validator;
    private readonly Dictionary<Hash256, TxRecord> _transactions;
    private readonly VoteEntry[] _batchVotes;
    private readonly VoteEntry[] _batchDecisions;
    private readonly uint[] _batchVoteShards;       // per vote: its concerned shards, ShardCount slots each
    private readonly int[] _batchVoteShardCounts;
    private readonly bool[] _batchVoteOwnShardUses;   // per vote: whether this shard's own initiators need it (see OwnShardUsesVote)
    private readonly uint[] _outputShards;            // scratch: the shards of one transaction's outputs
    private readonly ArrayBufferWriter<byte> _batchBodies = new(64 * 1024);   // this batch's voted bodies, reused
    private readonly BodyPool _bodyPool = new();   // bodies of undecided transactions (never drops a buffer)
    private readonly (int Offset, int Length)[] _batchVoteBodies;
    private readonly uint[] _shards;
    private readonly Hash256[] _ids;          // scratch: the object ids one store command touches
    private readonly IgnoreLocks? _ignoreLocks;   // only with the planted bug SkipLockCheck
    private int _lockHolders;                  // transactions holding locks here (checked against the store)
    private int _batchVoteCount, _batchDecisionCount;
    private ulong _batchSequence;
    private bool _inBatch;

    public ShardLedger(ShardLedgerOptions options, ObjectStore objects, IProofVerifier verifier)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _objects = objects ?? throw new ArgumentNullException(nameof(objects));
        _verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        _parsed = new ParsedTransaction(options.Limits);
        _validator = new TransactionValidator(options.Contracts, options.Limits);
        _transactions = new Dictionary<Hash256, TxRecord>(options.TransactionsCapacity);
        _batchVotes = new VoteEntry[options.BatchVotesMax];
        _batchDecisions = new VoteEntry[options.BatchVotesMax];
        _batchVoteShards = new uint[options.BatchVotesMax * (int)options.Map.ShardCount];
        _batchVoteShardCounts = new int[options.BatchVotesMax];
        _batchVoteOwnShardUses = new bool[options.BatchVotesMax];
        _outputShards = new uint[options.Map.ShardCount];
        _batchVoteBodies = new (int, int)[options.BatchVotesMax];
        _shards = new uint[options.Map.ShardCount];
        _ids = new Hash256[options.Limits.ObjectsPerTransactionMax];
        if (options.PlantedBugs.HasFlag(SbacBugs.SkipLockCheck)) _ignoreLocks = new IgnoreLocks(objects);
    }

    public ushort Shard => _options.Shard;
    public uint ShardCount => _options.Map.ShardCount;
    public int BatchVotesCapacity => _batchVotes.Length;
    public ObjectStore Objects => _objects;
    public int TransactionCount => _transactions.Count;

    /// <summary>Votes cast by the current (or last) batch, in execution order: what the replica signs. A Create
    /// decision is listed too, as a commit vote addressed to T's concerned shards (their receipt).</summary>
    public ReadOnlySpan<VoteEntry> BatchVotes => _batchVotes.AsSpan(0, _batchVoteCount);
    /// <summary>Decisions reached by the current (or last) batch, in execution order.</summary>
    public ReadOnlySpan<VoteEntry> BatchDecisions => _batchDecisions.AsSpan(0, _batchDecisionCount);
    public ulong BatchSequence => _batchSequence;

    /// <summary>The body of the transaction voted on at <paramref name="index"/> of <see cref="BatchVotes"/>
    /// (valid until the next batch): what an initiator needs for Accept and Create.</summary>
    public ReadOnlySpan<byte> BodyOfVote(int index)
    {
        Invariant.Check((uint)index < (uint)_batchVoteCount);
        var (offset, length) = _batchVoteBodies[index];
        return _batchBodies.WrittenSpan.Slice(offset, length);
    }

    /// <summary>Φ(T) of the vote at <paramref name="index"/> of <see cref="BatchVotes"/>: where that vote must go.</summary>
    public ReadOnlySpan<uint> ConcernedShardsOfVote(int index)
    {
        Invariant.Check((uint)index < (uint)_batchVoteCount);
        int stride = (int)_options.Map.ShardCount;
        return _batchVoteShards.AsSpan(index * stride, _batchVoteShardCounts[index]);
    }

    /// <summary>
    /// Whether the replicas of this shard need the vote at <paramref name="index"/> of <see cref="BatchVotes"/> from each
    /// other: as this shard's LOCALPREPARED proof in a Create (a commit with outputs in a shard T does not concern) or
    /// for a transaction other shards also decide. A transaction decided here alone with no such outputs needs none, so
    /// its vote goes to no replica of this shard (half the entries of every vote batch in the default load).
    /// </summary>
    public bool OwnShardUsesVote(int index)
    {
        Invariant.Check((uint)index < (uint)_batchVoteCount);
        return _batchVoteOwnShardUses[index];
    }

    public void BeginBatch(ulong sequence)
    {
        Invariant.Check(!_inBatch);
        Invariant.Check(sequence > _batchSequence || (_batchSequence == 0 && sequence == 0));
        _inBatch = true;
        _batchSequence = sequence;
        _batchVoteCount = _batchDecisionCount = 0;
        _batchBodies.ResetWrittenCount();
        _snapshotValid = false;
    }

    public void EndBatch(ulong sequence)
    {
        Invariant.Check(_inBatch);
        Invariant.Check(sequence == _batchSequence);
        _inBatch = false;
    }

    /// <summary>What this shard knows of a transaction.</summary>
    public bool TryGetTransaction(in Hash256 txId, out Decision? vote, out Decision? final)
    {
        if (_transactions.TryGetValue(txId, out var r))
        {
            vote = r.Vote;
            final = r.Final;
            return true;
        }
        vote = final = null;
        return false;
    }

    /// <summary>The body of a transaction this shard voted on and has not decided yet (for peers' implicit prepares).</summary>
    public bool TryGetPendingBody(in Hash256 txId, out ReadOnlySpan<byte> body)
    {
        if (_transactions.TryGetValue(txId, out var r) && r.Body is { } bytes)
        {
            body = bytes.AsSpan(0, r.BodyLength);
            return true;
        }
        body = default;
        return false;
    }

    /// <summary>Executes one command of the current batch.</summary>
    public LedgerReply Execute(ReadOnlySpan<byte> operation)
    {
        Invariant.Check(_inBatch);
        if (!SbacCommand.TryDecode(operation, _options.Limits, out var command, out _))
            return new LedgerReply(LedgerStatus.Malformed, default, null);
        return command.Kind switch
        {
            SbacCommandKind.Prepare => OnPrepare(command.Transaction),
            SbacCommandKind.Accept => OnAccept(command),
            SbacCommandKind.Create => OnCreate(command.Transaction, command.Proofs, command.ProofCount),
            SbacCommandKind.Creates => OnCreates(command),
            _ => new LedgerReply(LedgerStatus.Malformed, default, null),
        };
    }

    // ---------------------------------------------------------------- Prepare

    private LedgerReply OnPrepare(ReadOnlySpan<byte> body)
    {
        if (!_parsed.TryParse(body, out _)) return new LedgerReply(LedgerStatus.Malformed, default, null);
        var txId = _parsed.ComputeIds(body);

        // One lookup for the replay check and the new record (the table holds every transaction ever seen here, so
        // each probe is a likely cache miss); nothing below touches the table until the record is filled in.
        ref var record = ref CollectionsMarshal.GetValueRefOrAddDefault(_transactions, txId, out bool known);
        if (known)
        {
            // Replay safety: the recorded outcome, never a second vote.
            if (record.Final is { } final) return new LedgerReply(LedgerStatus.Decided, txId, final);
            return new LedgerReply(LedgerStatus.AlreadyVoted, txId, record.Vote);
        }

        int concerned = _parsed.ConcernedShards(_options.Map, _shards);
        if (!Contains(_shards.AsSpan(0, concerned), Shard))
        {
            _transactions.Remove(txId);   // not ours to record
            return new LedgerReply(LedgerStatus.NotConcerned, txId, null);
        }

        var tx = _parsed.View(body);
        var scope = ValidationScope.ForShard(Shard, _options.Map);
        IObjectStates states = _ignoreLocks is null ? _objects : _ignoreLocks;
        var vote = _validator.Validate(tx, states, scope).IsValid ? Decision.Commit : Decision.Abort;

        record.Vote = vote;
        if (vote == Decision.Commit) record.HoldsLocks = LockManagedObjects(tx, txId);
        AddVote(txId, vote, _shards.AsSpan(0, concerned), body, ownShardUses: concerned > 1 || (vote == Decision.Commit && HasOutputsOutside(_shards.AsSpan(0, concerned))));

        if (concerned == 1)
        {
            // The only concerned shard: its vote is the decision (DESIGN.md, fast paths).
            if (vote == Decision.Commit) ApplyCommit(tx, txId);
            Decide(ref record, txId, vote);
            return new LedgerReply(LedgerStatus.Decided, txId, vote);
        }

        record.Body = _bodyPool.Rent(body.Length);
        record.BodyLength = body.Length;
        body.CopyTo(record.Body);
        return new LedgerReply(LedgerStatus.Voted, txId, vote);
    }

    /// <summary>Locks T's inputs and references managed here; true if there were any.</summary>
    private bool LockManagedObjects(in TransactionView tx, in Hash256 txId)
    {
        int n = CollectManaged(tx, ObjectRole.Input, alsoReferences: true);
        if (n == 0) return false;
        // Fig. 2 has just found every one of them usable here, so the lock cannot fail.
        var locked = _objects.TryLock(_ids.AsSpan(0, n), txId);
        if (locked != StoreResult.Ok && _ignoreLocks is not null) return false;   // planted bug: voted commit without its locks
        Invariant.Check(locked == StoreResult.Ok);
        _lockHolders++;
        return true;
    }

    /// <summary>Distinct ids of T's free objects of a role that this shard manages, into <see cref="_ids"/>.</summary>
    private int CollectManaged(in TransactionView tx, ObjectRole role, bool alsoReferences)
    {
        int n = 0;
        for (int i = 0; i < tx.ObjectCount; i++)
        {
            var o = tx.ObjectAt(i);
            bool wanted = o.Role == role || (alsoReferences && o.Role == ObjectRole.Reference);
            if (!wanted || !o.IsFree || !Manages(o.Id)) continue;
            var id = o.Id;
            if (_ids.AsSpan(0, n).Contains(id)) continue;
            _ids[n++] = id;
        }
        return n;
    }

    // ---------------------------------------------------------------- Accept

    private LedgerReply OnAccept(in SbacCommand command)
    {
        var txId = command.TransactionId;
        ref var record = ref CollectionsMarshal.GetValueRefOrNullRef(_transactions, txId);
        bool known = !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref record);
        if (known && record.Final is { } final) return new LedgerReply(LedgerStatus.Decided, txId, final);

        if (command.Decision == Decision.Commit)
        {
            // Only a transaction this shard prepared with a commit vote can commit here.
            if (!known || record.Vote != Decision.Commit || record.Body is null) return new LedgerReply(LedgerStatus.InvalidProof, txId, null);
            var body = record.Body.AsSpan(0, record.BodyLength);
            Invariant.Check(_parsed.TryParse(body, out _));
            Invariant.Check(_parsed.ComputeIds(body) == txId);
            int concerned = _parsed.ConcernedShards(_options.Map, _shards);
            if (!SkipsProofs && !ProofsCover(command.Proofs, command.ProofCount, txId, _shards.AsSpan(0, concerned), Shard))
                return new LedgerReply(LedgerStatus.InvalidProof, txId, null);
            ApplyCommit(_parsed.View(body), txId);
            Decide(ref record, txId, Decision.Commit);
            return new LedgerReply(LedgerStatus.Decided, txId, Decision.Commit);
        }

        // Abort: our own abort vote, or one valid abort proof from a shard concerned by T.
        bool justified = SkipsProofs || (known && record.Vote == Decision.Abort);
        if (!justified)
        {
            ReadOnlySpan<uint> concernedShards = default;
            if (known && record.Body is { } pending)
            {
                var body = pending.AsSpan(0, record.BodyLength);
                Invariant.Check(_parsed.TryParse(body, out _));
                _parsed.ComputeIds(body);
                concernedShards = _shards.AsSpan(0, _parsed.ConcernedShards(_options.Map, _shards));
            }
            justified = HasAbortProof(command.Proofs, command.ProofCount, txId, concernedShards, known && record.Body is not null);
        }
        if (!justified) return new LedgerReply(LedgerStatus.InvalidProof, txId, null);

        if (!known)
        {
            // Decided before this shard saw T: remember it, so a later Prepare(T) gets the decision.
            record = ref CollectionsMarshal.GetValueRefOrAddDefault(_transactions, txId, out _);
        }
        else if (record.Vote == Decision.Commit)
        {
            ReleaseLocks(txId);
        }
        Decide(ref record, txId, Decision.Abort);
        return new LedgerReply(LedgerStatus.Decided, txId, Decision.Abort);
    }

    private void ApplyCommit(in TransactionView tx, in Hash256 txId)
    {
        // Inputs are consumed; what stays locked after that (the references) is released.
        int inputs = CollectManaged(tx, ObjectRole.Input, alsoReferences: false);
        if (inputs > 0) Invariant.Check(_objects.Consume(_ids.AsSpan(0, inputs), txId) == StoreResult.Ok);
        ReleaseLocks(txId);
        CreateManagedOutputs(tx);
    }

    private void CreateManagedOutputs(in TransactionView tx)
    {
        int n = 0;
        for (int i = 0; i < tx.ObjectCount; i++)
        {
            var o = tx.ObjectAt(i);
            if (o.Role != ObjectRole.Output || !Manages(o.Id) || ConsumedWithin(tx, o.Id)) continue;
            _ids[n++] = o.Id;
        }
        // Ids are fresh (Theorem 1): a collision here would be a bug or a broken hash.
        if (n > 0) Invariant.Check(_objects.Create(_ids.AsSpan(0, n)) == StoreResult.Ok);
    }

    /// <summary>An output that a later trace of the same T consumes never becomes active.</summary>
    private static bool ConsumedWithin(in TransactionView tx, in Hash256 id)
    {
        for (int i = 0; i < tx.ObjectCount; i++)
        {
            var o = tx.ObjectAt(i);
            if (o.Role == ObjectRole.Input && !o.IsFree && o.Id == id) return true;
        }
        return false;
    }

    private void ReleaseLocks(in Hash256 txId) => _objects.Unlock(txId);

    private void Decide(ref TxRecord record, in Hash256 txId, Decision decision)
    {
        record.Final = decision;
        if (record.HoldsLocks)
        {
            record.HoldsLocks = false;
            _lockHolders--;
        }
        if (record.Body is { } body)
        {
            _bodyPool.Return(body);
            record.Body = null;
            record.BodyLength = 0;
        }
        AddDecision(txId, decision);
    }

    // ---------------------------------------------------------------- Create

    private LedgerReply OnCreate(ReadOnlySpan<byte> body, ReadOnlySpan<byte> proofs, int proofCount)
    {
        if (!_parsed.TryParse(body, out _)) return new LedgerReply(LedgerStatus.Malformed, default, null);
        var txId = _parsed.ComputeIds(body);
        if (_transactions.TryGetValue(txId, out var known) && known.Final is { } final)
            return new LedgerReply(LedgerStatus.Decided, txId, final);

        int concerned = _parsed.ConcernedShards(_options.Map, _shards);
        var concernedShards = _shards.AsSpan(0, concerned);
        // A concerned shard decides through Prepare/Accept, never through Create.
        if (Contains(concernedShards, Shard)) return new LedgerReply(LedgerStatus.InvalidProof, txId, null);
        if (!ProofsCover(proofs, proofCount, txId, concernedShards, ownShard: uint.MaxValue))
            return new LedgerReply(LedgerStatus.InvalidProof, txId, null);

        CreateManagedOutputs(_parsed.View(body));
        ref var record = ref CollectionsMarshal.GetValueRefOrAddDefault(_transactions, txId, out _);
        Decide(ref record, txId, Decision.Commit);
        // Signed with the batch and sent to T's concerned shards: the receipt that ends their Create retries.
        AddVote(txId, Decision.Commit, concernedShards, body, ownShardUses: false);   // addressed to T's shards, never this one
        return new LedgerReply(LedgerStatus.Decided, txId, Decision.Commit);
    }

    /// <summary>
    /// Each entry exactly as a Create of its own, in order: one entry's bad proof leaves the others alone. The
    /// reply is the first entry's that was not decided (so its sender sees what went wrong), else the last one's.
    /// An entry that finds this batch's vote table full is left undecided (the same on every replica: the table's
    /// size is the shard's setting), and so is every entry after it: the initiator proposes them again.
    /// </summary>
    private LedgerReply OnCreates(in SbacCommand command)
    {
        LedgerReply? first = null;
        LedgerReply last = default;
        var entries = command.EnumerateCreates();
        while (entries.MoveNext())
        {
            if (_batchVoteCount >= _batchVotes.Length || _batchDecisionCount >= _batchDecisions.Length)
            {
                first ??= new LedgerReply(LedgerStatus.Deferred, default, null);
                break;
            }
            last = OnCreate(entries.Transaction, entries.Proofs, entries.ProofCount);
            if (last.Status != LedgerStatus.Decided) first ??= last;
        }
        return first ?? last;
    }

    // ---------------------------------------------------------------- proofs

    /// <summary>ALLPREPARED(commit): a valid commit proof for every concerned shard except our own,
    /// whose commit vote the caller has already checked.</summary>
    private bool ProofsCover(ReadOnlySpan<byte> proofs, int count, in Hash256 txId, ReadOnlySpan<uint> concerned, uint ownShard)
    {
        if (proofs.IsEmpty && count > 0) return false;
        for (int c = 0; c < concerned.Length; c++)
        {
            uint shard = concerned[c];
            if (shard == ownShard) continue;
            if (!HasProof(proofs, txId, shard, Decision.Commit)) return false;
        }
        return true;
    }

    private bool HasAbortProof(ReadOnlySpan<byte> proofs, int count, in Hash256 txId, ReadOnlySpan<uint> concerned, bool concernedKnown)
    {
        if (count == 0) return false;
        var reader = new SpanReader(proofs);
        reader.TryReadVarUInt64(out _);
        for (int i = 0; i < count; i++)
        {
            var rest = proofs[reader.Consumed..];
            LocalPreparedProof.TryRead(rest, out var proof, out int length, out _);
            reader.TryReadBytes(length, out _);
            if (proof.Decision != Decision.Abort) continue;
            if (concernedKnown && !Contains(concerned, proof.Shard)) continue;
            if (_verifier.Verify(proof, txId)) return true;
        }
        return false;
    }

    private bool HasProof(ReadOnlySpan<byte> proofs, in Hash256 txId, uint shard, Decision decision)
    {
        var reader = new SpanReader(proofs);
        if (!reader.TryReadVarUInt64(out ulong count)) return false;
        for (ulong i = 0; i < count; i++)
        {
            var rest = proofs[reader.Consumed..];
            LocalPreparedProof.TryRead(rest, out var proof, out int length, out _);
            reader.TryReadBytes(length, out _);
            if (proof.Shard == shard && proof.Decision == decision && _verifier.Verify(proof, txId)) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- helpers

    private bool Manages(in Hash256 id) => _options.Map.ShardOf(id) == Shard;

    private bool SkipsProofs => (_options.PlantedBugs & SbacBugs.AcceptWithoutProof) != 0;

    private static bool Contains(ReadOnlySpan<uint> shards, uint shard)
    {
        foreach (uint s in shards)
        {
            if (s == shard) return true;
        }
        return false;
    }

    /// <summary>Whether the parsed transaction has an output in a shard outside <paramref name="concerned"/> (a Create goes there).</summary>
    private bool HasOutputsOutside(ReadOnlySpan<uint> concerned)
    {
        int n = _parsed.OutputShards(_options.Map, _outputShards);
        for (int i = 0; i < n; i++)
        {
            if (!Contains(concerned, _outputShards[i])) return true;
        }
        return false;
    }

    private void AddVote(in Hash256 txId, Decision vote, ReadOnlySpan<uint> concerned, ReadOnlySpan<byte> body, bool ownShardUses)
    {
        Invariant.Check(_batchVoteCount < _batchVotes.Length);
        _batchVoteBodies[_batchVoteCount] = (_batchBodies.WrittenCount, body.Length);
        _batchBodies.Write(body);
        int stride = (int)_options.Map.ShardCount;
        concerned.CopyTo(_batchVoteShards.AsSpan(_batchVoteCount * stride, stride));
        _batchVoteShardCounts[_batchVoteCount] = concerned.Length;
        _batchVoteOwnShardUses[_batchVoteCount] = ownShardUses;
        _batchVotes[_batchVoteCount++] = new VoteEntry(txId, vote);
    }

    private void AddDecision(in Hash256 txId, Decision decision)
    {
        Invariant.Check(_batchDecisionCount < _batchDecisions.Length);
        _batchDecisions[_batchDecisionCount++] = new VoteEntry(txId, decision);
    }

    /// <summary>
    /// Checks the ledger against its store: every lock belongs to an undecided commit vote, so no lock
    /// survives its transaction's decision. O(n): for tests and the simulator, not the hot path.
    /// </summary>
    public void CheckInvariants()
    {
        Invariant.Check(!_inBatch);
        Invariant.Check(_objects.LockingTransactions == _lockHolders);
        int holders = 0;
        foreach (var record in _transactions.Values)
        {
            if (!record.HoldsLocks) continue;
            holders++;
            Invariant.Check(record.Vote == Decision.Commit);
            Invariant.Check(record.Final is null);
        }
        Invariant.Check(holders == _lockHolders);
        _objects.CheckInvariants();
    }
}
