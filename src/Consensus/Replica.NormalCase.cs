using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

// Normal case: requests, batching at the primary, pre-prepare / prepare / commit, execution and replies.
public sealed partial class Replica
{
    private void OnRequest(ReadOnlySpan<byte> message, bool fromClient, Outbox outbox)
    {
        if (!Wire.TryReadRequest(message, _o.RequestBytesMax, out var request))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var state = _clients.Check(request.Client, request.RequestNumber);
        if (state != RequestState.New)
        {
            AnswerExecuted(request.Client, request.RequestNumber, state, outbox);
            return;
        }
        if (_queue.Contains(request.Client, request.RequestNumber) || _inFlight.Contains(new RequestKey(request.Client, request.RequestNumber)))
        {
            // A client retransmission: the primary may have missed it, so a backup forwards it again.
            if (fromClient && !IsPrimary) outbox.AddCopy(OutputKind.Send, Primary, 0, message);
            Reject(RejectReason.Duplicate);
            return;
        }
        if (!_queue.TryEnqueue(request.Client, request.RequestNumber, request.Operation, _now))
        {
            Reject(RejectReason.QueueFull);
            return;
        }
        if (IsPrimary) TryCutBatches(outbox);
        else if (fromClient) outbox.AddCopy(OutputKind.Send, Primary, 0, message);
    }

    /// <summary>Answers a request the replicated client table already knows: the cached reply if it is the
    /// client's latest, else the bare fact that it executed (or is stale).</summary>
    private void AnswerExecuted(ulong client, ulong number, RequestState state, Outbox outbox)
    {
        if (state == RequestState.Stale)
        {
            Reject(RejectReason.Stale);
            EmitReply(client, number, ReplyStatus.Stale, default, outbox);
            return;
        }
        Reject(RejectReason.Duplicate);
        if (_clients.TryGetLastReply(client, number, out var status, out var reply)) EmitReply(client, number, status, reply, outbox);
        else EmitReply(client, number, ReplyStatus.AlreadyExecuted, default, outbox);
    }

    private void EmitReply(ulong client, ulong number, ReplyStatus status, ReadOnlySpan<byte> result, Outbox outbox)
    {
        var span = outbox.Reserve(Wire.ReplyLengthMax(result.Length));
        int length = Wire.WriteReply(span, _view, client, number, _self, status, result);
        outbox.Commit(OutputKind.Reply, -1, 0, client, number, Hash256.Zero, length);
    }

    /// <summary>The primary cuts batches while the window allows: a full batch at once, a partial one when
    /// the oldest queued request has waited <see cref="ReplicaOptions.BatchDelayTicks"/>.</summary>
    private void TryCutBatches(Outbox outbox)
    {
        while (IsPrimary && _viewActive && !_appInvalid && _queue.Count > 0
               && _nextSequence <= _stable.Sequence + _window && _nextSequence <= _lastExecuted + (ulong)_o.PipelineDepth)
        {
            bool full = _queue.Count >= _o.BatchRequestsMax;
            bool due = _now - _queue.Peek().ArrivalTick >= _o.BatchDelayTicks;
            if (!full && !due) return;
            if (!CutBatch(outbox)) return;
        }
    }

    private bool CutBatch(Outbox outbox)
    {
        const int countRoom = 5; // the count varint goes in front once the count is known
        var w = new SpanWriter(_batchScratch.AsSpan(countRoom, _o.BatchBytesMax));
        int count = 0;
        while (_queue.Count > 0 && count < _o.BatchRequestsMax)
        {
            ref var e = ref _queue.Peek();
            var key = new RequestKey(e.Client, e.Number);
            if (_clients.Check(e.Client, e.Number) != RequestState.New || _inFlight.Contains(key))
            {
                _queue.Dequeue();
                continue;
            }
            int size = SpanWriter.VarintLength(e.Client) + SpanWriter.VarintLength(e.Number) + SpanWriter.BlobLength(e.Length);
            if (size > w.Remaining - countRoom) break;
            Wire.WriteRequestEntry(ref w, e.Client, e.Number, _queue.Operation(e));
            _inFlight.Add(key);
            _queue.Dequeue();
            count++;
        }
        if (count == 0) return false;
        int countLength = SpanWriter.VarintLength((ulong)count);
        int start = countRoom - countLength;
        new SpanWriter(_batchScratch.AsSpan(start, countLength)).WriteVarUInt64((ulong)count);
        var body = _batchScratch.AsSpan(start, countLength + w.Written);

        ulong seq = _nextSequence++;
        var slot = SlotFor(seq);
        var digest = Wire.BatchDigest(body);
        Span<byte> sig = stackalloc byte[Sig];
        Statement.Sign(_signer, StatementKind.PrePrepare, _ctx, _view, seq, digest, _self, sig);
        slot.BeginView(_view, digest, sig);
        slot.SetBody(body);
        ulong id = PersistPrePrepare(slot, outbox);
        SendPrePrepare(outbox, slot, OutputKind.BroadcastAfterPersist, -1, id);
        return true;
    }

    private void OnPrePrepare(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadPrePrepare(message, _o.BatchBytesMax, out var m))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (IgnorePrePrepare(m)) return;
        if (!Statement.Verify(_signer, StatementKind.PrePrepare, _ctx, m.View, m.Sequence, m.Digest, m.Signer, m.Signature))
        {
            Reject(RejectReason.BadSignature);
            return;
        }
        if (!Wire.TryValidateBatch(m.Body, _o.BatchRequestsMax, _o.RequestBytesMax, out _))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if ((_bugs & PlantedBug.SkipBatchDigestCheck) == 0 && Wire.BatchDigest(m.Body) != m.Digest)
        {
            Reject(RejectReason.DigestMismatch);
            return;
        }
        var slot = SlotFor(m.Sequence);
        if (slot.HasPrePrepare && slot.View == m.View)
        {
            // Same digest, body was missing (a new-view pre-prepare): take the body now.
            slot.SetBody(m.Body);
            PersistPrePrepare(slot, outbox);
            TryExecute(outbox);
            return;
        }
        slot.BeginView(m.View, m.Digest, m.Signature);
        slot.SetBody(m.Body);
        ulong id = PersistPrePrepare(slot, outbox);
        SendPrepare(slot, id, outbox);
        CheckPrepared(slot, outbox);
    }

    private bool IgnorePrePrepare(in PrePrepareMessage m)
    {
        if ((uint)m.Signer >= (uint)_n) return RejectTrue(RejectReason.UnknownSender);
        if (m.View != _view || !_viewActive) return RejectTrue(RejectReason.WrongView);
        if (m.Signer != _ctx.Primary(m.View)) return RejectTrue(RejectReason.NotPrimary);
        if (!InWindow(m.Sequence)) return RejectTrue(RejectReason.OutsideWindow);
        if (m.Signer == _self) return RejectTrue(RejectReason.Duplicate); // our own, echoed back
        var slot = _slots[m.Sequence % _window];
        if (slot.Sequence == m.Sequence && slot.HasPrePrepare && slot.View == m.View)
        {
            if (slot.Digest != m.Digest) return RejectTrue(RejectReason.Conflict);
            if (slot.HasBody) return RejectTrue(RejectReason.Duplicate);
        }
        return false;
    }

    private bool RejectTrue(RejectReason reason)
    {
        Reject(reason);
        return true;
    }

    /// <summary>A backup's prepare vouches for the accepted pre-prepare: sent only once it is durable, and
    /// counted towards our own quorum only then.</summary>
    private void SendPrepare(Slot slot, ulong persistId, Outbox outbox)
    {
        Statement.Sign(_signer, StatementKind.Prepare, _ctx, slot.View, slot.Sequence, slot.Digest, _self, slot.OwnPrepareSignature);
        slot.SentPrepare = true;
        SendVote(outbox, MessageType.Prepare, slot, slot.OwnPrepareSignature, OutputKind.BroadcastAfterPersist, -1, persistId);
        _pendingOwnVotes.Enqueue(new PendingVote(persistId, slot.Sequence, slot.View, commit: false));
    }

    private void OnPrepare(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadVote(message, MessageType.Prepare, out var m))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (IgnoreVote(m, isCommit: false)) return;
        var slot = SlotFor(m.Sequence);
        slot.Prepares.Set(m.Signer, m.View, m.Digest, m.Signature);
        CheckPrepared(slot, outbox);
    }

    private void OnCommit(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadVote(message, MessageType.Commit, out var m))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (IgnoreVote(m, isCommit: true)) return;
        var slot = SlotFor(m.Sequence);
        slot.Commits.Set(m.Signer, m.View, m.Digest, m.Signature);
        CheckCommitted(slot, outbox);
    }

    /// <summary>Guards shared by Prepare and Commit. Votes for the current view are kept even before the
    /// new view is installed here, since peers that installed it first vote right away.</summary>
    private bool IgnoreVote(in VoteMessage m, bool isCommit)
    {
        if ((uint)m.Signer >= (uint)_n) return RejectTrue(RejectReason.UnknownSender);
        if (m.View != _view) return RejectTrue(RejectReason.WrongView);
        if (!isCommit && m.Signer == _ctx.Primary(m.View)) return RejectTrue(RejectReason.NotPrimary);
        if (!InWindow(m.Sequence)) return RejectTrue(RejectReason.OutsideWindow);
        if (m.Signer == _self) return RejectTrue(RejectReason.Duplicate);
        var votes = isCommit ? _slots[m.Sequence % _window].Commits : _slots[m.Sequence % _window].Prepares;
        if (_slots[m.Sequence % _window].Sequence == m.Sequence && votes.Has[m.Signer] && votes.View[m.Signer] == m.View)
        {
            return RejectTrue(votes.Digest[m.Signer] == m.Digest ? RejectReason.Duplicate : RejectReason.Conflict);
        }
        if (IsSurplusVote(m, isCommit))
        {
            // Not needed any more, and not a fault: ignored without the Ed25519 verify (~50 µs, the largest
            // cost of a vote), which would otherwise be paid for every vote past the quorum of every batch.
            SurplusVotes++;
            return true;
        }
        var kind = isCommit ? StatementKind.Commit : StatementKind.Prepare;
        if (!Statement.Verify(_signer, kind, _ctx, m.View, m.Sequence, m.Digest, m.Signer, m.Signature)) return RejectTrue(RejectReason.BadSignature);
        return false;
    }

    /// <summary>
    /// A vote that matches a slot whose certificate is already complete: a prepare once the slot is prepared, a
    /// commit once it is committed here. The certificate kept (2f prepares for view change, 2f+1 commits for
    /// peers that catch up) holds exactly the quorum, so a further matching vote changes nothing. A vote for
    /// another digest is still verified and recorded (equivocation is seen either way).
    /// </summary>
    private bool IsSurplusVote(in VoteMessage m, bool isCommit)
    {
        var slot = _slots[m.Sequence % _window];
        if (slot.Sequence != m.Sequence || slot.View != m.View || !slot.HasPrePrepare || slot.Digest != m.Digest) return false;
        return isCommit ? slot.CommittedLocal : slot.Prepared;
    }

    /// <summary>Prepared = the pre-prepare plus 2f matching prepares from distinct backups. Then the
    /// certificate is persisted before the commit that vouches for it goes out.</summary>
    private void CheckPrepared(Slot slot, Outbox outbox)
    {
        if (slot.Prepared || !slot.HasPrePrepare || slot.View != _view || !_viewActive) return;
        int primary = _ctx.Primary(slot.View);
        if (slot.Prepares.Count(slot.View, slot.Digest, primary) < 2 * _f) return;
        slot.Prepared = true;
        slot.TakeCertificate(primary, 2 * _f);
        if ((_bugs & PlantedBug.ExecuteWhenPrepared) != 0) slot.CommittedLocal = true;
        ulong id = PersistPrepared(slot, outbox);
        Statement.Sign(_signer, StatementKind.Commit, _ctx, slot.View, slot.Sequence, slot.Digest, _self, slot.OwnCommitSignature);
        slot.SentCommit = true;
        SendVote(outbox, MessageType.Commit, slot, slot.OwnCommitSignature, OutputKind.BroadcastAfterPersist, -1, id);
        _pendingOwnVotes.Enqueue(new PendingVote(id, slot.Sequence, slot.View, commit: true));
        CheckCommitted(slot, outbox);
        if ((_bugs & PlantedBug.ExecuteWhenPrepared) != 0) TryExecute(outbox);
    }

    /// <summary>Committed-local = prepared plus 2f+1 matching commits (our own counts once durable).</summary>
    private void CheckCommitted(Slot slot, Outbox outbox)
    {
        if (slot.CommittedLocal || !slot.Prepared || slot.View != _view) return;
        if (slot.Commits.Count(slot.View, slot.Digest, -1) < _ctx.Quorum) return;
        slot.CommittedLocal = true;
        var span = outbox.Reserve(Records.CommittedLengthMax);
        ulong id = NextPersistId();
        int length = Records.WriteCommitted(span, id, slot.View, slot.Sequence, slot.Digest);
        // Lazy: nothing sent vouches for it (the replies and S-BAC votes of the batch go out at once, and the commit
        // already went out on the durable prepared certificate). A replica that loses it in a crash recovers the slot
        // as prepared and learns the commits again from its peers, as one that crashed before the last commit arrived.
        // Flushed for itself it was one fsync in three per batch on a backup.
        outbox.Commit(OutputKind.PersistLazy, -1, id, 0, 0, Hash256.Zero, length);
        TryExecute(outbox);
    }

    /// <summary>Executes committed batches in sequence order. A slot below the stable checkpoint is still
    /// usable while the ring has not reused it, which spares a slightly late replica a state transfer.</summary>
    private void TryExecute(Outbox outbox)
    {
        bool progressed = false;
        while (!_appInvalid)
        {
            ulong seq = _lastExecuted + 1;
            var slot = _slots[seq % _window];
            if (slot.Sequence != seq || !slot.CommittedLocal || !slot.HasBody || slot.Executed || !slot.HasPrePrepare) break;
            ExecuteBatch(slot, outbox);
            progressed = true;
        }
        if (progressed && IsPrimary) TryCutBatches(outbox);
    }

    private void ExecuteBatch(Slot slot, Outbox outbox)
    {
        ulong seq = slot.Sequence;
        _app.BeginBatch(seq);
        var reader = new Wire.BatchReader(slot.BodySpan);
        int executed = 0;
        while (reader.TryNext(out var request))
        {
            var key = new RequestKey(request.Client, request.RequestNumber);
            _inFlight.Remove(key);
            var state = _clients.Check(request.Client, request.RequestNumber);
            if (state == RequestState.Stale)
            {
                EmitReply(request.Client, request.RequestNumber, ReplyStatus.Stale, default, outbox);
                continue;
            }
            if (state == RequestState.Executed) continue; // a duplicate a faulty primary batched again
            _reply.ResetWrittenCount();
            _app.Execute(seq, request.Client, request.RequestNumber, request.Operation, _reply);
            _clients.MarkExecuted(request.Client, request.RequestNumber, ReplyStatus.Executed, _reply.WrittenSpan);
            EmitReply(request.Client, request.RequestNumber, ReplyStatus.Executed, _reply.WrittenSpan, outbox);
            executed++;
        }
        _app.EndBatch(seq);
        slot.Executed = true;
        _lastExecuted = seq;
        _lastProgressTick = _now;
        if (_viewActive) _viewChangeTimeout = _o.ViewChangeTimeoutTicks;
        outbox.Add(OutputKind.Delivered, executed, 0, 0, seq, slot.Digest);
        if (seq % (ulong)_o.CheckpointInterval == 0) TakeCheckpoint(seq, outbox);
    }

    // ---- bodies a replica lacks (new-view pre-prepares carry digests only) ----

    /// <summary>A batch body from a peer (fetched, or with a commit certificate): well formed and hashing to the digest it came for.</summary>
    private bool IsBodyOf(ReadOnlySpan<byte> body, in Hash256 digest)
    {
        if (!Wire.TryValidateBatch(body, _o.BatchRequestsMax, _o.RequestBytesMax, out _))
        {
            Reject(RejectReason.Malformed);
            return false;
        }
        if (Wire.BatchDigest(body) != digest)
        {
            Reject(RejectReason.DigestMismatch);
            return false;
        }
        return true;
    }

    private void FetchMissingBodies(Outbox outbox)
    {
        for (ulong seq = Math.Max(_lastExecuted, _stable.Sequence) + 1; seq <= _stable.Sequence + _window; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence != seq || !slot.HasPrePrepare || slot.HasBody) continue;
            var span = outbox.Reserve(Wire.FetchLengthMax);
            int length = Wire.WriteFetchBatch(span, seq, slot.Digest);
            outbox.Commit(OutputKind.Broadcast, -1, 0, 0, 0, Hash256.Zero, length);
        }
    }

    private void OnFetchBatch(int from, ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadFetchBatch(message, out ulong seq, out var digest))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var slot = _slots[seq % _window];
        if (slot.Sequence != seq || !slot.TryGetBody(digest, out var body))
        {
            Reject(RejectReason.Unavailable);
            return;
        }
        var span = outbox.Reserve(Wire.BatchBodyLengthMax(body.Length));
        int length = Wire.WriteBatchBody(span, seq, digest, body);
        outbox.Commit(OutputKind.Send, from, 0, 0, 0, Hash256.Zero, length);
    }

    private void OnBatchBody(ReadOnlySpan<byte> message, Outbox outbox)
    {
        if (!Wire.TryReadBatchBody(message, _o.BatchBytesMax, out ulong seq, out var digest, out var body))
        {
            Reject(RejectReason.Malformed);
            return;
        }
        var slot = _slots[seq % _window];
        if (slot.Sequence != seq || !slot.HasPrePrepare || slot.Digest != digest)
        {
            Reject(RejectReason.OutsideWindow);
            return;
        }
        if (slot.HasBody)
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        if (!IsBodyOf(body, digest)) return;
        slot.SetBody(body);
        PersistPrePrepare(slot, outbox);
        TryExecute(outbox);
    }
}
