using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Memory;

namespace Chainspace.Consensus;

// Checkpoints: every C sequence numbers each replica signs its state digest; 2f+1 matching make it stable,
// which moves the watermarks and lets the log below it go.
public sealed partial class Replica
{
    /// <summary>A checkpoint this replica took: its digest and the snapshot behind it, kept until a later
    /// checkpoint is stable (the stable one is what state transfer serves). Reused, never reallocated.</summary>
    private sealed class OwnCheckpoint
    {
        public ulong Sequence;
        public Hash256 Digest;
        public Hash256 AppDigest;
        public readonly byte[] Signature = new byte[IReplicaSigner.SignatureSize];
        public readonly ArrayBufferWriter<byte> Table = new(1024);
        public LargeBufferWriter App = new();   // the snapshot: the size of the state
        // Set when App's pieces went into an outbox as Persist tails: until that outbox is cleared, App's bytes must
        // not change, even if this checkpoint is released and rented again within the same step.
        public Outbox? PinnedBy;
        public ulong PinnedUntilClear;
    }

    private sealed class CheckpointVotes
    {
        public ulong Sequence;
        public readonly bool[] Has;
        public readonly Hash256[] Digest;
        public readonly byte[] Signatures;

        public CheckpointVotes(int n)
        {
            Has = new bool[n];
            Digest = new Hash256[n];
            Signatures = new byte[n * IReplicaSigner.SignatureSize];
        }
    }

    private CheckpointCertificate _stable;
    private OwnCheckpoint? _stableOwn;
    private ulong _stableRecordId;
    private ulong _stableKeepFromId; // the stable record's first snapshot piece: the log keeps everything from here
    private readonly List<OwnCheckpoint> _ownCheckpoints = new();
    private readonly Stack<OwnCheckpoint> _ownCheckpointPool = new();
    private readonly Dictionary<ulong, CheckpointVotes> _checkpointVotes = new();
    private readonly Stack<CheckpointVotes> _checkpointVotePool;
    private readonly List<ulong> _scratchSequences = new();

    private OwnCheckpoint RentOwnCheckpoint()
    {
        var own = _ownCheckpointPool.Count > 0 ? _ownCheckpointPool.Pop() : new OwnCheckpoint();
        own.Table.ResetWrittenCount();
        if (own.PinnedBy is { } outbox && outbox.ClearCount < own.PinnedUntilClear)
        {
            // Rare (the stable checkpoint moved twice in one step): the undrained outbox keeps the old buffer.
            own.App = new LargeBufferWriter(own.App.Capacity);
        }
        else
        {
            own.App.ResetWrittenCount();
        }
        own.PinnedBy = null;
        return own;
    }

    private void TakeCheckpoint(ulong seq, Outbox outbox)
    {
        var own = RentOwnCheckpoint();
        own.Sequence = seq;
        own.AppDigest = _app.WriteCheckpoint(seq, own.App);
        _clients.Write(own.Table);
        own.Digest = StateMessages.CheckpointDigest(seq, own.AppDigest, ClientTable.Digest(own.Table.WrittenSpan));
        Statement.Sign(_signer, StatementKind.Checkpoint, _ctx, 0, seq, own.Digest, _self, own.Signature);
        if (seq <= _stable.Sequence)
        {
            CatchUpCheckpoint(own, outbox);
            return;
        }
        _ownCheckpoints.Add(own);

        var record = outbox.Reserve(Records.CheckpointVoteLengthMax);
        ulong id = NextPersistId();
        int length = Records.WriteCheckpointVote(record, id, seq, own.Digest);
        outbox.Commit(OutputKind.Persist, -1, id, 0, 0, Hash256.Zero, length);
        SendCheckpoint(own, OutputKind.BroadcastAfterPersist, -1, id, outbox);
        RecordCheckpointVote(_self, seq, own.Digest, own.Signature, outbox);
    }

    /// <summary>We reached, through the log, a checkpoint already proven stable while we lagged: it becomes
    /// our stable snapshot if it matches, else our state is wrong and must be fetched.</summary>
    private void CatchUpCheckpoint(OwnCheckpoint own, Outbox outbox)
    {
        if (own.Sequence != _stable.Sequence || _stableOwn is not null)
        {
            _ownCheckpointPool.Push(own);
            return;
        }
        if (own.Digest == _stable.Digest)
        {
            AdvanceStable(_stable, own, outbox);
            return;
        }
        _ownCheckpointPool.Push(own);
        StateDivergences++;
        _appInvalid = true;
        SetTransferTarget(_stable);
    }

    private void SendCheckpoint(OwnCheckpoint own, OutputKind kind, int to, ulong persistId, Outbox outbox)
    {
        var span = outbox.Reserve(Wire.CheckpointLengthMax);
        int length = Wire.WriteCheckpoint(span, own.Sequence, own.Digest, _self, own.Signature);
        outbox.Commit(kind, to, persistId, 0, 0, Hash256.Zero, length);
    }

    private void OnCheckpoint(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadCheckpoint(message, out var m))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if ((uint)m.Signer >= (uint)_n)
        {
            Reject(RejectReason.UnknownSender);
            return;
        }
        if (!InWindow(m.Sequence) || m.Sequence % (ulong)_o.CheckpointInterval != 0)
        {
            Reject(RejectReason.OutsideWindow);
            return;
        }
        if (m.Signer == _self || (_checkpointVotes.TryGetValue(m.Sequence, out var votes) && votes.Has[m.Signer]))
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        if (!Statement.Verify(_signer, StatementKind.Checkpoint, _ctx, 0, m.Sequence, m.Digest, m.Signer, m.Signature))
        {
            Reject(RejectReason.BadSignature);
            return;
        }
        RecordCheckpointVote(m.Signer, m.Sequence, m.Digest, m.Signature, outbox);
    }

    private void RecordCheckpointVote(int replica, ulong seq, in Hash256 digest, ReadOnlySpan<byte> signature, Outbox outbox)
    {
        if (!_checkpointVotes.TryGetValue(seq, out var votes))
        {
            votes = _checkpointVotePool.Count > 0 ? _checkpointVotePool.Pop() : new CheckpointVotes(_n);
            Array.Clear(votes.Has);
            votes.Sequence = seq;
            _checkpointVotes.Add(seq, votes);
        }
        votes.Has[replica] = true;
        votes.Digest[replica] = digest;
        signature.CopyTo(votes.Signatures.AsSpan(replica * Sig, Sig));
        TryStabilize(votes, digest, outbox);
    }

    private void TryStabilize(CheckpointVotes votes, in Hash256 digest, Outbox outbox)
    {
        int matching = 0;
        for (int i = 0; i < _n; i++)
        {
            if (votes.Has[i] && votes.Digest[i] == digest) matching++;
        }
        if (matching < _ctx.Quorum) return;
        var replicas = new int[_ctx.Quorum];
        var sigs = new byte[_ctx.Quorum][];
        for (int i = 0, k = 0; i < _n && k < replicas.Length; i++)
        {
            if (!votes.Has[i] || votes.Digest[i] != digest) continue;
            replicas[k] = i;
            sigs[k++] = votes.Signatures.AsSpan(i * Sig, Sig).ToArray();
        }
        AdoptStableCertificate(new CheckpointCertificate(votes.Sequence, digest, replicas, sigs), outbox);
    }

    /// <summary>A proven-stable checkpoint: if we hold the same state, it becomes our stable checkpoint with
    /// its snapshot; if we are behind, the watermarks still move and state transfer catches us up.</summary>
    private void AdoptStableCertificate(CheckpointCertificate cert, Outbox outbox)
    {
        if (cert.Sequence <= _stable.Sequence) return;
        OwnCheckpoint? own = null;
        foreach (var c in _ownCheckpoints)
        {
            if (c.Sequence == cert.Sequence) own = c;
        }
        if (own is not null && own.Digest != cert.Digest)
        {
            // 2f+1 replicas, f+1 of them honest, agree on another state: ours is wrong. Fetch theirs.
            StateDivergences++;
            _appInvalid = true;
            own = null;
        }
        if (own is null && cert.Sequence > _lastExecuted) SetTransferTarget(cert);
        AdvanceStable(cert, own, outbox);
    }

    private void AdvanceStable(CheckpointCertificate cert, OwnCheckpoint? own, Outbox outbox)
    {
        _stable = cert;
        if (_stableOwn is not null && _stableOwn != own) _ownCheckpointPool.Push(_stableOwn);
        _stableOwn = own;
        for (int i = _ownCheckpoints.Count - 1; i >= 0; i--)
        {
            var c = _ownCheckpoints[i];
            if (c.Sequence > cert.Sequence) continue;
            _ownCheckpoints.RemoveAt(i);
            if (c != own) _ownCheckpointPool.Push(c);
        }
        _scratchSequences.Clear();
        foreach (var seq in _checkpointVotes.Keys)
        {
            if (seq <= cert.Sequence) _scratchSequences.Add(seq);
        }
        foreach (var seq in _scratchSequences)
        {
            _checkpointVotePool.Push(_checkpointVotes[seq]);
            _checkpointVotes.Remove(seq);
        }
        if (_nextSequence <= cert.Sequence) _nextSequence = cert.Sequence + 1;
        ulong recordId = PersistStable(own, outbox, out ulong firstId);
        _stableRecordId = own is not null ? recordId : 0;
        _stableKeepFromId = firstId;
        outbox.Add(OutputKind.CheckpointStable, -1, 0, 0, cert.Sequence, cert.Digest);
    }

    /// <summary>Once the stable checkpoint's record is durable, records older than it and older than every
    /// live slot's records are no longer needed to recover.</summary>
    private void OnStableRecordDurable(Outbox outbox)
    {
        if (_stableRecordId == 0 || _stableRecordId > _durablePersistId || _stableOwn is null) return;
        ulong keepFrom = _stableKeepFromId;
        for (ulong seq = _stable.Sequence + 1; seq <= _stable.Sequence + _window; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence == seq && slot.FirstRecordId != 0 && slot.FirstRecordId < keepFrom) keepFrom = slot.FirstRecordId;
        }
        _stableRecordId = 0;
        outbox.Add(OutputKind.TruncateLog, -1, keepFrom, 0, 0, Hash256.Zero);
    }

    private void OnCheckpointProof(ReadOnlySpan<byte> message, Outbox outbox)
    {
        var cert = StateMessages.TryDecodeCheckpointProof(message, _n);
        if (cert is null)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (cert.Sequence <= _stable.Sequence)
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        if (cert.Sequence % (ulong)_o.CheckpointInterval != 0 || !cert.Verify(_signer, _ctx, _genesisDigest))
        {
            Reject(RejectReason.BadProof);
            return;
        }
        AdoptStableCertificate(cert, outbox);
    }
}
