using System.Buffers;
using Chainspace.Core;

namespace Chainspace.Consensus;

// State transfer: a replica that knows (from 2f+1 signatures) a checkpoint it cannot reach through the log
// fetches that checkpoint's snapshot from one of its signers, a piece of at most SnapshotChunkBytes at a time
// (asking for the next as each arrives), rotating sources on timeout and resuming where it stopped. The
// snapshot is accepted only once whole and only if it hashes to the certified digest (equal states give equal
// bytes, so pieces from different sources fit together); the log suffix then arrives by retransmission.
// One fetch at a time, one snapshot of at most SnapshotBytesMax: bounded memory.
public sealed partial class Replica
{
    private CheckpointCertificate? _transferTarget;
    private int _transferSource;
    private long _transferNextTick;
    /// <summary>The application holds state we cannot vouch for (a bad snapshot or an outvoted checkpoint):
    /// nothing executes until a verified snapshot replaces it.</summary>
    private bool _appInvalid;
    // The snapshot being gathered: the checkpoint it belongs to (certificate verified, client table checked against
    // its digest when piece 0 arrived) and the bytes so far. Null when no transfer is under way.
    private CheckpointCertificate? _gatherCert;
    private Hash256 _gatherAppDigest;
    private byte[] _gatherTable = [];
    private int _gatherTotal;
    private ArrayBufferWriter<byte>? _gathered;
    // The replica last asked for a piece: only its answers are taken, so another (Byzantine) replica cannot slip a
    // garbage piece in ahead of the real one and spoil every transfer.
    private int _transferAsked = -1;

    private void SetTransferTarget(CheckpointCertificate cert)
    {
        if (_transferTarget is not null && _transferTarget.Sequence >= cert.Sequence) return;
        _transferTarget = cert;
        _transferNextTick = 0;
    }

    private void OnStateTransferTimeout(Outbox outbox)
    {
        var target = _transferTarget;
        if (target is null) return;
        if (target.Sequence <= _lastExecuted && !_appInvalid)
        {
            _transferTarget = null;
            EndGathering();
            return;
        }
        bool stalled = _appInvalid || _now - _lastProgressTick >= _o.StateTransferDelayTicks;
        if (!stalled || _now < _transferNextTick || target.Replicas.Length == 0) return;
        int source = target.Replicas[_transferSource++ % target.Replicas.Length];
        if (source == _self) source = target.Replicas[_transferSource++ % target.Replicas.Length];
        // Resume the snapshot under way if it is the one wanted; else start the target's from its first byte.
        bool resume = _gatherCert is not null && _gatherCert.Sequence >= target.Sequence;
        RequestSnapshotPiece(source, resume ? _gatherCert!.Sequence : target.Sequence, resume ? _gathered!.WrittenCount : 0, outbox);
    }

    private void RequestSnapshotPiece(int source, ulong sequence, int offset, Outbox outbox)
    {
        _transferAsked = source;
        var span = outbox.Reserve(Wire.FetchLengthMax);
        int length = Wire.WriteFetchState(span, sequence, offset);
        outbox.Commit(OutputKind.Send, source, 0, 0, 0, Hash256.Zero, length);
        _transferNextTick = _now + _o.StateTransferDelayTicks;
    }

    /// <summary>The piece of <paramref name="snapshot"/> that starts at <paramref name="offset"/>: what one log record
    /// or one STATE-SNAPSHOT message carries.</summary>
    private ReadOnlyMemory<byte> SnapshotPieceAt(ReadOnlyMemory<byte> snapshot, int offset) =>
        snapshot.Slice(offset, Math.Min(_o.SnapshotChunkBytes, snapshot.Length - offset));

    private void OnFetchState(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadFetchState(message, out ulong seq, out int offset))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var own = _stableOwn;
        if (own is null || own.Sequence < seq || own.Sequence != _stable.Sequence || from == _self)
        {
            Reject(RejectReason.Unavailable);
            return;
        }
        // A later checkpoint than the one asked for is served from its start: the asker's pieces are of the old one.
        if (own.Sequence != seq) offset = 0;
        var app = own.App.WrittenMemory;
        if (offset > app.Length)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var piece = SnapshotPieceAt(app, offset).Span;
        var table = own.Table.WrittenSpan;
        var span = outbox.Reserve(StateMessages.SnapshotPieceLengthMax(_stable, offset == 0 ? table.Length : 0, piece.Length));
        int length = StateMessages.WriteSnapshotPiece(span, _stable, own.AppDigest, table, app.Length, offset, piece);
        outbox.Commit(OutputKind.Send, from, 0, 0, 0, Hash256.Zero, length);
    }

    private void OnStateSnapshot(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!StateMessages.TryDecodeSnapshotPiece(message, _n, _o.SnapshotBytesMax, out var piece))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (from != _transferAsked)
        {
            Reject(RejectReason.Unsolicited);
            return;
        }
        var cert = piece.Certificate;
        if (cert.Sequence <= _lastExecuted && !_appInvalid)
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        var gathering = _gatherCert;
        bool continues = gathering is not null && cert.Sequence == gathering.Sequence && cert.Digest == gathering.Digest
            && piece.AppDigest == _gatherAppDigest && piece.Total == _gatherTotal;
        if (piece.Offset == 0 && (!continues || _gathered!.WrittenCount != 0))
        {
            // Piece 0 of a checkpoint we are not gathering (or again, after a restart of the source's answer): the
            // certificate and the client table are checked here, once per snapshot, not per piece.
            if (gathering is not null && cert.Sequence < gathering.Sequence)
            {
                Reject(RejectReason.Duplicate);
                return;
            }
            if (!TryBeginGathering(piece)) return;
        }
        else if (!continues || piece.Offset != _gathered!.WrittenCount)
        {
            Reject(RejectReason.OutsideWindow); // a piece of another snapshot, or not the next one
            return;
        }
        var gathered = _gathered!;
        gathered.Write(piece.Bytes);
        if (gathered.WrittenCount < _gatherTotal)
        {
            RequestSnapshotPiece(from, cert.Sequence, gathered.WrittenCount, outbox);
            return;
        }
        var whole = gathered.WrittenSpan;
        cert = _gatherCert!;
        var appDigest = _gatherAppDigest;
        var tableBytes = _gatherTable;
        EndGathering();
        var table = ClientTable.TryRead(tableBytes, _o.ClientWindow, _o.SnapshotBytesMax)!;
        _app.RestoreSnapshot(whole, cert.Sequence);
        if (_app.StateDigest(cert.Sequence) != appDigest)
        {
            // The application now holds garbage: block execution until a good snapshot arrives.
            _appInvalid = true;
            Reject(RejectReason.BadProof);
            return;
        }
        InstallSnapshot(cert, appDigest, table, tableBytes, whole, outbox);
    }

    /// <summary>Checks piece 0's certificate, and its client table against the certified digest, then starts
    /// gathering that snapshot (dropping any other under way).</summary>
    private bool TryBeginGathering(in StateMessages.SnapshotPiece piece)
    {
        var cert = piece.Certificate;
        if (cert.Sequence == 0 || cert.Sequence % (ulong)_o.CheckpointInterval != 0 || !cert.Verify(_signer, _ctx, _genesisDigest))
        {
            Reject(RejectReason.BadProof);
            return false;
        }
        if (ClientTable.TryRead(piece.ClientTable, _o.ClientWindow, _o.SnapshotBytesMax) is null)
        {
            Reject(RejectReason.Malformed);
            return false;
        }
        if (StateMessages.CheckpointDigest(cert.Sequence, piece.AppDigest, ClientTable.Digest(piece.ClientTable)) != cert.Digest)
        {
            Reject(RejectReason.DigestMismatch);
            return false;
        }
        _gatherCert = cert;
        _gatherAppDigest = piece.AppDigest;
        _gatherTable = piece.ClientTable.ToArray();
        _gatherTotal = piece.Total;
        _gathered ??= new ArrayBufferWriter<byte>(Math.Min(piece.Total, _o.SnapshotChunkBytes));
        _gathered.ResetWrittenCount();
        return true;
    }

    /// <summary>Forgets the snapshot under way. The buffer is kept only while it is small: a state-sized one would
    /// otherwise stay allocated for the life of a replica that caught up once.</summary>
    private void EndGathering()
    {
        _gatherCert = null;
        _gatherTable = [];
        _transferAsked = -1;
        if (_gathered is not null && _gathered.Capacity > _o.SnapshotChunkBytes) _gathered = null;
        else _gathered?.ResetWrittenCount();
    }

    private void InstallSnapshot(CheckpointCertificate cert, in Hash256 appDigest, ClientTable table,
        ReadOnlySpan<byte> tableBytes, ReadOnlySpan<byte> appBytes, Outbox outbox)
    {
        _clients = table;
        _lastExecuted = cert.Sequence;
        _appInvalid = false;
        _lastProgressTick = _now;
        _inFlight.Clear();
        var own = RentOwnCheckpoint();
        own.Sequence = cert.Sequence;
        own.Digest = cert.Digest;
        own.AppDigest = appDigest;
        own.Table.Write(tableBytes);
        own.App.Write(appBytes);
        Statement.Sign(_signer, StatementKind.Checkpoint, _ctx, 0, cert.Sequence, cert.Digest, _self, own.Signature);
        if (cert.Sequence > _stable.Sequence || (cert.Sequence == _stable.Sequence && _stableOwn is null))
        {
            AdvanceStable(cert, own, outbox);
        }
        else
        {
            _ownCheckpointPool.Push(own);
        }
        if (_transferTarget is not null && _transferTarget.Sequence <= cert.Sequence) _transferTarget = null;
        outbox.Add(OutputKind.StateTransferred, -1, 0, 0, cert.Sequence, cert.Digest);
        TryExecute(outbox);
    }
}
