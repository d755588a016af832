using System.Buffers;
using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

// Durability. Everything a replica vouches for is written first (persist before you vouch): pre-prepares
// before prepares, prepared certificates before commits, the view before a view change, checkpoint digests
// before checkpoint messages. After a crash the driver replays the surviving records through Recover, in
// order, then calls CompleteRecovery: the replica restores its stable snapshot, rebuilds its window and
// re-executes the batches it knows committed. Anything lost was never vouched for.
public sealed partial class Replica
{
    private List<byte[]>? _recoveredSlotRecords = new(); // non-null until the first Step or CompleteRecovery
    private bool _recoveredAny;
    // The snapshot pieces replayed since the last stable record: which checkpoint, how many in order so far.
    private ArrayBufferWriter<byte>? _recoveredSnapshot;
    private ulong _recoveredSnapshotSequence;
    private int _recoveredSnapshotChunks;

    /// <summary>A fresh replica starts with its first Step; one that replayed records must complete recovery first.</summary>
    private void CloseRecovery()
    {
        Invariant.Check(!_recoveredAny); // Recover was called: CompleteRecovery must come before Step
        _recoveredSlotRecords = null;
    }

    private ulong PersistPrePrepare(Slot slot, Outbox outbox)
    {
        var span = outbox.Reserve(Records.PrePrepareLengthMax(slot.BodyLength));
        ulong id = NextPersistId();
        int length = Records.WritePrePrepare(span, id, slot);
        outbox.Commit(OutputKind.Persist, -1, id, 0, 0, Hash256.Zero, length);
        if (slot.FirstRecordId == 0) slot.FirstRecordId = id;
        return id;
    }

    private ulong PersistPrepared(Slot slot, Outbox outbox)
    {
        var span = outbox.Reserve(16 + slot.CertificateEncodedLength);
        ulong id = NextPersistId();
        int length = Records.WritePrepared(span, id, slot);
        outbox.Commit(OutputKind.Persist, -1, id, 0, 0, Hash256.Zero, length);
        if (slot.FirstRecordId == 0) slot.FirstRecordId = id;
        return id;
    }

    /// <summary>Persists the stable checkpoint: its snapshot (if we hold it) as pieces of at most
    /// <see cref="ReplicaOptions.SnapshotChunkBytes"/>, then the record that names them. Returns the record's id;
    /// <paramref name="firstId"/> is the first piece's (the log must keep everything from there).</summary>
    private ulong PersistStable(OwnCheckpoint? own, Outbox outbox, out ulong firstId)
    {
        int tableLength = own?.Table.WrittenCount ?? 0;
        var app = own is null ? default : own.App.WrittenMemory;
        int chunks = (app.Length + _o.SnapshotChunkBytes - 1) / _o.SnapshotChunkBytes;
        firstId = 0;
        for (int i = 0; i < chunks; i++)
        {
            // The piece stays in own.App, pinned there until this outbox is cleared (see RentOwnCheckpoint).
            var piece = SnapshotPieceAt(app, i * _o.SnapshotChunkBytes);
            var head = outbox.Reserve(Records.SnapshotChunkHeadLengthMax);
            ulong chunkId = NextPersistId();
            if (i == 0) firstId = chunkId;
            int headLength = Records.WriteSnapshotChunkHead(head, chunkId, own!.Sequence, i, piece.Length);
            outbox.CommitPersist(chunkId, headLength, piece);
        }
        if (own is not null && chunks > 0)
        {
            own.PinnedBy = outbox;
            own.PinnedUntilClear = outbox.ClearCount + 1;
        }
        var span = outbox.Reserve(Records.StableLengthMax(_stable, tableLength));
        ulong id = NextPersistId();
        if (firstId == 0) firstId = id;
        int length = own is null
            ? Records.WriteStable(span, id, _view, _viewActive, _stable, false, default, default, 0, 0)
            : Records.WriteStable(span, id, _view, _viewActive, _stable, true, own.AppDigest, own.Table.WrittenSpan, app.Length, chunks);
        outbox.Commit(OutputKind.Persist, -1, id, 0, 0, Hash256.Zero, length);
        return id;
    }

    /// <summary>Replays one durable record, oldest first, before the first <see cref="Step"/>. A record that
    /// does not parse is a storage bug (the log checksums every record), not peer input.</summary>
    public void Recover(ReadOnlySpan<byte> record)
    {
        Invariant.Check(_recoveredSlotRecords is not null); // only before CompleteRecovery
        _recoveredAny = true;
        var r = new SpanReader(record);
        Invariant.Check(r.TryReadByte(out byte kind));
        Invariant.Check(r.TryReadVarUInt64(out ulong id));
        _nextPersistId = Math.Max(_nextPersistId, id + 1);
        _durablePersistId = Math.Max(_durablePersistId, id);
        switch ((RecordKind)kind)
        {
            case RecordKind.PrePrepare:
            case RecordKind.Prepared:
            case RecordKind.Committed:
                // Applied once the stable checkpoint (maybe recorded later in the log) is known.
                _recoveredSlotRecords.Add(record.ToArray());
                break;
            case RecordKind.CheckpointVote:
                break; // re-created when the batches re-execute
            case RecordKind.ViewChange:
                Invariant.Check(r.TryReadVarUInt64(out ulong vcView));
                if (vcView > _view)
                {
                    _view = vcView;
                    _viewActive = false;
                }
                break;
            case RecordKind.NewView:
                Invariant.Check(r.TryReadVarUInt64(out ulong nvView));
                Invariant.Check(r.TryReadBlob(int.MaxValue, out var nvBytes));
                if (nvView >= _view)
                {
                    _view = nvView;
                    _viewActive = true;
                    _newViewBytes = nvBytes.ToArray();
                }
                break;
            case RecordKind.SnapshotChunk:
                RecoverSnapshotChunk(ref r);
                break;
            case RecordKind.Stable:
                RecoverStable(ref r);
                break;
            default:
                Invariant.Fail($"unknown record kind {kind}");
                break;
        }
    }

    /// <summary>Gathers the pieces of one snapshot, in order. Piece 0 starts a new one; a piece that does not
    /// follow (an older checkpoint whose first pieces the log already dropped) spoils the gathering until the next
    /// piece 0, and the stable record that names it is then skipped (a newer one follows it in the log).</summary>
    private void RecoverSnapshotChunk(ref SpanReader r)
    {
        Invariant.Check(r.TryReadVarUInt64(out ulong seq));
        Invariant.Check(r.TryReadVarUInt64(out ulong index));
        Invariant.Check(r.TryReadBlob(int.MaxValue, out var piece));
        _recoveredSnapshot ??= new ArrayBufferWriter<byte>(piece.Length);
        if (index == 0)
        {
            _recoveredSnapshot.ResetWrittenCount();
            _recoveredSnapshotSequence = seq;
            _recoveredSnapshotChunks = 0;
        }
        else if (seq != _recoveredSnapshotSequence || index != (ulong)_recoveredSnapshotChunks)
        {
            _recoveredSnapshotChunks = -1;
            return;
        }
        if (_recoveredSnapshotChunks < 0) return;
        _recoveredSnapshot.Write(piece);
        _recoveredSnapshotChunks++;
    }

    private void RecoverStableWithoutSnapshot(CheckpointCertificate cert)
    {
        if (cert.Sequence <= _stable.Sequence) return;
        _stable = cert;
        SetTransferTarget(cert);
    }

    private void RecoverStable(ref SpanReader r)
    {
        Invariant.Check(r.TryReadVarUInt64(out ulong view));
        Invariant.Check(r.TryReadByte(out byte active));
        var cert = CheckpointCertificate.TryRead(ref r, _n);
        Invariant.Check(cert is not null);
        Invariant.Check(r.TryReadByte(out byte form));
        if (view > _view || (view == _view && active == 1))
        {
            _view = view;
            _viewActive = active == 1;
        }
        if ((StableSnapshotForm)form == StableSnapshotForm.None)
        {
            RecoverStableWithoutSnapshot(cert!);
            return;
        }
        Invariant.Check(r.TryReadHash(out var appDigest));
        Invariant.Check(r.TryReadBlob(int.MaxValue, out var table));
        ReadOnlySpan<byte> app;
        if ((StableSnapshotForm)form == StableSnapshotForm.Inline)
        {
            Invariant.Check(r.TryReadBlob(int.MaxValue, out app));
        }
        else
        {
            Invariant.Check((StableSnapshotForm)form == StableSnapshotForm.Chunked);
            Invariant.Check(r.TryReadVarUInt64(out ulong appLength));
            Invariant.Check(r.TryReadVarUInt64(out ulong chunks));
            var gathered = _recoveredSnapshot;
            bool whole = chunks == 0 ? appLength == 0
                : gathered is not null && _recoveredSnapshotSequence == cert!.Sequence && _recoveredSnapshotChunks == (int)chunks
                  && (ulong)gathered.WrittenCount == appLength;
            _recoveredSnapshotChunks = -1;
            if (!whole)
            {
                // An older checkpoint whose first pieces the log dropped (a newer stable record follows it): known
                // stable, but not held.
                RecoverStableWithoutSnapshot(cert!);
                return;
            }
            app = chunks == 0 ? default : gathered!.WrittenSpan;
        }
        if (cert!.Sequence < _lastExecuted) return;
        var clients = ClientTable.TryRead(table, _o.ClientWindow, int.MaxValue);
        Invariant.Check(clients is not null);
        _app.RestoreSnapshot(app, cert.Sequence);
        Invariant.Check(_app.StateDigest(cert.Sequence) == appDigest);
        _clients = clients!;
        _lastExecuted = cert.Sequence;
        if (cert.Sequence >= _stable.Sequence) _stable = cert;
        if (_stableOwn is not null) _ownCheckpointPool.Push(_stableOwn);
        var own = RentOwnCheckpoint();
        own.Sequence = cert.Sequence;
        own.Digest = cert.Digest;
        own.AppDigest = appDigest;
        own.Table.Write(table);
        own.App.Write(app);
        Statement.Sign(_signer, StatementKind.Checkpoint, _ctx, 0, cert.Sequence, cert.Digest, _self, own.Signature);
        _stableOwn = cert.Sequence == _stable.Sequence ? own : null;
    }

    /// <summary>Ends recovery: rebuilds the window from the recovered records, re-executes what committed,
    /// and, if the replica was changing views, re-announces its view change.</summary>
    public void CompleteRecovery(Outbox outbox)
    {
        Invariant.Check(_recoveredSlotRecords is not null);
        var records = _recoveredSlotRecords;
        _recoveredSlotRecords = null;
        _recoveredSnapshot = null;
        _recoveredAny = false;
        foreach (var record in records) RecoverSlotRecord(record);
        _viewSeen = _view;
        ulong highest = _stable.Sequence;
        for (ulong seq = _stable.Sequence + 1; seq <= _stable.Sequence + _window; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence == seq && slot.HasPrePrepare && slot.View == _view) highest = seq;
        }
        _nextSequence = Math.Max(highest, _lastExecuted) + 1;
        if (!_viewActive)
        {
            var vc = BuildViewChange(_view);
            _viewChanges[_self] = vc;
            _ownViewChangeBytes = vc.Encode();
            _ownViewChangeRecordId = _durablePersistId;
            outbox.AddCopy(OutputKind.BroadcastAfterPersist, -1, _ownViewChangeRecordId, _ownViewChangeBytes);
        }
        TryExecute(outbox);
        CheckInvariants();
    }

    private void RecoverSlotRecord(byte[] record)
    {
        var r = new SpanReader(record);
        Invariant.Check(r.TryReadByte(out byte kind));
        Invariant.Check(r.TryReadVarUInt64(out ulong id));
        switch ((RecordKind)kind)
        {
            case RecordKind.PrePrepare:
                RecoverPrePrepare(ref r, id);
                break;
            case RecordKind.Prepared:
                var cert = PreparedCertificate.TryRead(ref r, _n);
                Invariant.Check(cert is not null);
                RecoverPrepared(cert!, id);
                break;
            case RecordKind.Committed:
                Invariant.Check(r.TryReadVarUInt64(out _));
                Invariant.Check(r.TryReadVarUInt64(out ulong seq));
                Invariant.Check(r.TryReadHash(out var digest));
                var slot = _slots[seq % _window];
                if (InWindow(seq) && slot.Sequence == seq && slot.HasPrePrepare && slot.Digest == digest) slot.CommittedLocal = true;
                break;
            default:
                Invariant.Fail($"not a slot record: {kind}");
                break;
        }
    }

    private void RecoverPrePrepare(ref SpanReader r, ulong id)
    {
        Invariant.Check(r.TryReadVarUInt64(out ulong view));
        Invariant.Check(r.TryReadVarUInt64(out ulong seq));
        Invariant.Check(r.TryReadHash(out var digest));
        Invariant.Check(r.TryReadBytes(Sig, out var sig));
        Invariant.Check(r.TryReadByte(out byte hasBody));
        ReadOnlySpan<byte> body = default;
        if (hasBody == 1) Invariant.Check(r.TryReadBlob(int.MaxValue, out body));
        if (!InWindow(seq) || view > _view) return;
        var slot = SlotFor(seq);
        if (slot.FirstRecordId == 0) slot.FirstRecordId = id;
        if (!slot.HasPrePrepare || slot.View != view || slot.Digest != digest) slot.BeginView(view, digest, sig);
        if (hasBody == 1 && !slot.HasBody) slot.SetBody(body);
        if (view == _view && _viewActive && _ctx.Primary(view) != _self)
        {
            // The record is durable, so our prepare may count (and be resent) as if just sent.
            Statement.Sign(_signer, StatementKind.Prepare, _ctx, view, seq, digest, _self, slot.OwnPrepareSignature);
            slot.SentPrepare = true;
            slot.Prepares.Set(_self, view, digest, slot.OwnPrepareSignature);
        }
    }

    private void RecoverPrepared(PreparedCertificate cert, ulong id)
    {
        if (!InWindow(cert.Sequence)) return;
        var slot = SlotFor(cert.Sequence);
        if (slot.FirstRecordId == 0) slot.FirstRecordId = id;
        slot.SetCertificate(cert);
        if (!slot.HasPrePrepare || slot.View != cert.View || slot.Digest != cert.Digest || cert.View != _view) return;
        slot.Prepared = true;
        Statement.Sign(_signer, StatementKind.Commit, _ctx, cert.View, cert.Sequence, cert.Digest, _self, slot.OwnCommitSignature);
        slot.SentCommit = true;
        slot.Commits.Set(_self, cert.View, cert.Digest, slot.OwnCommitSignature);
    }
}
