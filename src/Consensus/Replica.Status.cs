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
        if (status.View == _view && status.ViewActive && _viewActive) Retransmit(from, status.LastExecuted, outbox);
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
