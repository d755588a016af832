using System.Buffers;
using Chainspace.Core;

namespace Chainspace.Consensus;

// State transfer: a replica that knows (from 2f+1 signatures) a checkpoint it cannot reach through the log
// fetches that checkpoint's snapshot from one of its signers, rotating on timeout. The snapshot is
// accepted only if it hashes to the certified digest; the log suffix then arrives by retransmission.
// One fetch at a time, one snapshot of at most SnapshotBytesMax: bounded memory.
public sealed partial class Replica
{
    private CheckpointCertificate? _transferTarget;
    private int _transferSource;
    private long _transferNextTick;
    /// <summary>The application holds state we cannot vouch for (a bad snapshot or an outvoted checkpoint):
    /// nothing executes until a verified snapshot replaces it.</summary>
    private bool _appInvalid;

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
            return;
        }
        bool stalled = _appInvalid || _now - _lastProgressTick >= _o.StateTransferDelayTicks;
        if (!stalled || _now < _transferNextTick || target.Replicas.Length == 0) return;
        int source = target.Replicas[_transferSource++ % target.Replicas.Length];
        if (source == _self) source = target.Replicas[_transferSource++ % target.Replicas.Length];
        var span = outbox.Reserve(Wire.FetchLengthMax);
        int length = Wire.WriteFetchState(span, target.Sequence);
        outbox.Commit(OutputKind.Send, source, 0, 0, 0, Hash256.Zero, length);
        _transferNextTick = _now + _o.StateTransferDelayTicks;
    }

    private void OnFetchState(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadFetchState(message, out ulong seq))
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
        var bytes = StateMessages.EncodeSnapshot(_stable, own.AppDigest, own.Table.WrittenSpan, own.App.WrittenSpan);
        outbox.AddCopy(OutputKind.Send, from, 0, bytes);
    }

    private void OnStateSnapshot(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!StateMessages.TryDecodeSnapshot(message, _n, _o.SnapshotBytesMax, out var snap))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var cert = snap.Certificate;
        if (cert.Sequence <= _lastExecuted && !_appInvalid)
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        if (cert.Sequence == 0 || cert.Sequence % (ulong)_o.CheckpointInterval != 0 || !cert.Verify(_signer, _ctx, _genesisDigest))
        {
            Reject(RejectReason.BadProof);
            return;
        }
        var table = ClientTable.TryRead(snap.ClientTable, _o.ClientWindow, _o.SnapshotBytesMax);
        if (table is null)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (StateMessages.CheckpointDigest(cert.Sequence, snap.AppDigest, ClientTable.Digest(snap.ClientTable)) != cert.Digest)
        {
            Reject(RejectReason.DigestMismatch);
            return;
        }
        _app.RestoreSnapshot(snap.AppSnapshot, cert.Sequence);
        if (_app.StateDigest(cert.Sequence) != snap.AppDigest)
        {
            // The application now holds garbage: block execution until a good snapshot arrives.
            _appInvalid = true;
            Reject(RejectReason.BadProof);
            return;
        }
        InstallSnapshot(cert, snap.AppDigest, table, snap.ClientTable, snap.AppSnapshot, outbox);
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
