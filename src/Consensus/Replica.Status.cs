using Chainspace.Core;

namespace Chainspace.Consensus;

// Retransmission. PBFT assumes messages eventually arrive; over a lossy network each replica periodically
// broadcasts STATUS (its view, last executed and stable sequence), and peers resend what it lacks: the
// NEW-VIEW of a view it missed, a checkpoint proof if it fell below their log, and the pre-prepares and
// their own votes for the next sequence numbers. A replica in a view change rebroadcasts its VIEW-CHANGE.
public sealed partial class Replica
{
    private void OnStatusTimeout(Outbox outbox)
    {
        var span = outbox.Reserve(Wire.StatusLengthMax);
        int length = Wire.WriteStatus(span, new StatusMessage(_view, _viewActive, _lastExecuted, _stable.Sequence));
        outbox.Commit(OutputKind.Broadcast, -1, 0, 0, 0, Hash256.Zero, length);
        if (!_viewActive && _ownViewChangeBytes is not null)
        {
            outbox.AddCopy(OutputKind.BroadcastAfterPersist, -1, _ownViewChangeRecordId, _ownViewChangeBytes);
        }
        FetchMissingBodies(outbox);
    }

    private void OnStatus(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadStatus(message, out var status))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (from == _self)
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        bool behindView = status.View < _view || (status.View == _view && !status.ViewActive);
        if (_viewActive && behindView && _newViewBytes is not null) outbox.AddCopy(OutputKind.Send, from, 0, _newViewBytes);
        if (status.LastExecuted < _stable.Sequence && _stable.Sequence > 0)
        {
            outbox.AddCopy(OutputKind.Send, from, 0, StateMessages.EncodeCheckpointProof(_stable));
        }
        foreach (var own in _ownCheckpoints)
        {
            if (own.Sequence > status.StableSequence) SendCheckpoint(own, OutputKind.Send, from, 0, outbox);
        }
        // Under load every peer is a batch or two behind at any instant; resending what it is about to finish only
        // burned bandwidth and LZ4 time. Help a peer whose execution did not move since its previous status.
        bool stalled = status.LastExecuted <= _peerExecuted[from];
        _peerExecuted[from] = status.LastExecuted;
        if (!stalled) return;
        if (status.View == _view && status.ViewActive && _viewActive) Retransmit(from, status.LastExecuted, outbox);
        else if (status.LastExecuted < _lastExecuted) SendCommittedBatches(from, status.LastExecuted, outbox);
    }

    /// <summary>
    /// For a peer behind us that is not in our active view (typically one that timed out alone and waits in a
    /// higher view the others never joined): the batches it lacks with their commit certificates. It cannot take
    /// part in our view, but it can execute what 2f+1 replicas committed, so a quiet cluster still converges
    /// instead of leaving it behind until the next checkpoint.
    /// </summary>
    private void SendCommittedBatches(int to, ulong peerExecuted, Outbox outbox)
    {
        ulong last = Math.Min(peerExecuted + (ulong)_o.RetransmitSequencesMax, _lastExecuted);
        Span<int> signers = stackalloc int[_n];
        for (ulong seq = peerExecuted + 1; seq <= last; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence != seq || !slot.Executed || !slot.HasBody) return;   // left the ring: the checkpoint proof covers it
            int count = 0;
            var commits = slot.Commits;
            for (int i = 0; i < _n && count < _ctx.Quorum; i++)
            {
                if (commits.Has[i] && commits.View[i] == slot.View && commits.Digest[i] == slot.Digest) signers[count++] = i;
            }
            if (count < _ctx.Quorum) return;   // executed after a state transfer: no certificate here
            var span = outbox.Reserve(Wire.CommittedBatchLengthMax(count, slot.BodyLength));
            var signatures = _certificateScratch.AsSpan(0, count * IReplicaSigner.SignatureSize);
            for (int i = 0; i < count; i++) commits.Signature(signers[i]).CopyTo(signatures.Slice(i * IReplicaSigner.SignatureSize));
            int length = Wire.WriteCommittedBatch(span, seq, slot.View, slot.Digest, signers[..count], signatures, slot.BodySpan);
            outbox.Commit(OutputKind.Send, to, 0, 0, 0, Hash256.Zero, length);
        }
    }

    /// <summary>
    /// Executes a batch proven committed by 2f+1 signed commits, in whatever view this replica is. Safe: a
    /// committed (view, seq, digest) is what every later view keeps at seq. Only the next batch to execute is
    /// taken (the sender sends them in order). The batch is not written to the log: after a crash the replica
    /// catches up again the same way, or by state transfer.
    /// </summary>
    private void OnCommittedBatch(ReadOnlySpan<byte> message, Outbox outbox)
    {
        Span<int> signers = stackalloc int[_n];
        var signatures = _certificateScratch.AsSpan(0, _n * IReplicaSigner.SignatureSize);
        if (!Wire.TryReadCommittedBatch(message, _n, _o.BatchBytesMax, out ulong seq, out ulong view, out var digest, signers, signatures,
                out int count, out var body))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (seq != _lastExecuted + 1 || !InWindow(seq))
        {
            Reject(seq <= _lastExecuted ? RejectReason.Duplicate : RejectReason.OutsideWindow);
            return;
        }
        if (count < _ctx.Quorum)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (signers[j] == signers[i])
                {
                    Reject(RejectReason.Malformed);
                    return;
                }
            }
        }
        for (int i = 0; i < count; i++)   // the cheap checks first: signatures cost tens of microseconds each
        {
            if (!Statement.Verify(_signer, StatementKind.Commit, _ctx, view, seq, digest, signers[i], signatures.Slice(i * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize)))
            {
                Reject(RejectReason.BadSignature);
                return;
            }
        }
        if (!IsBodyOf(body, digest)) return;
        var slot = SlotFor(seq);
        if (!slot.HasPrePrepare || slot.View != view || slot.Digest != digest) slot.BeginView(view, digest, NoPrePrepareSignature);
        if (!slot.HasBody) slot.SetBody(body);
        for (int i = 0; i < count; i++)
        {
            slot.Commits.Set(signers[i], view, digest, signatures.Slice(i * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize));
        }
        slot.CommittedLocal = true;
        TryExecute(outbox);
    }


    /// <summary>Resends, for the sequences just above what the peer executed, the primary's pre-prepare and
    /// our own durable prepare and commit: enough, with the other replicas doing the same, to finish them.</summary>
    private void Retransmit(int to, ulong peerExecuted, Outbox outbox)
    {
        ulong first = Math.Max(peerExecuted, _stable.Sequence) + 1;
        ulong last = Math.Min(first + (ulong)_o.RetransmitSequencesMax - 1, _stable.Sequence + _window);
        for (ulong seq = first; seq <= last; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence != seq || !slot.HasPrePrepare || slot.View != _view) continue;
            if (slot.HasBody) SendPrePrepare(outbox, slot, OutputKind.Send, to, 0);
            if (slot.Prepares.Has[_self] && slot.Prepares.View[_self] == slot.View)
            {
                SendVote(outbox, MessageType.Prepare, slot, slot.OwnPrepareSignature, OutputKind.Send, to, 0);
            }
            if (slot.Commits.Has[_self] && slot.Commits.View[_self] == slot.View)
            {
                SendVote(outbox, MessageType.Commit, slot, slot.OwnCommitSignature, OutputKind.Send, to, 0);
            }
        }
    }
}
