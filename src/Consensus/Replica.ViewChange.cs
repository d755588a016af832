using Chainspace.Core;

namespace Chainspace.Consensus;

// View change (PBFT with signatures): a backup whose oldest pending request waits too long moves to view
// v+1 and broadcasts VIEW-CHANGE with its stable checkpoint and prepared certificates; the new primary
// gathers 2f+1, recomputes which batch each sequence must carry, and broadcasts NEW-VIEW; backups verify
// it by recomputing the same thing. Timeouts double per failed attempt (capped); f+1 view changes for
// higher views pull a replica along, so replicas that drifted apart in a partition converge again.
public sealed partial class Replica
{
    private readonly ViewChangeMessage?[] _viewChanges; // latest valid one per sender
    private byte[]? _ownViewChangeBytes;
    private ulong _ownViewChangeRecordId;
    private long _viewChangeDeadline; // 0: timer not running
    private int _viewChangeTimeout;
    private byte[]? _newViewBytes; // the NEW-VIEW that started the current view, for laggards
    private long _queueFrontSince;
    private ulong _pendingSequence, _pendingView;   // the executable-next batch the request timer last saw pending
    private long _pendingSince;

    /// <summary>Castro-Liskov's request timer: runs while some request waits, restarts when the request it
    /// waits for executes (so a primary cannot censor one request while ordering others).</summary>
    private void OnRequestTimeout(Outbox outbox)
    {
        if (!_viewActive) return;
        // A batch accepted in this view that does not execute is a pending request too: without this, a
        // replica that already executed everything its clients asked for would never help replace a
        // primary that cannot finish the batches others still need.
        var next = _slots[(_lastExecuted + 1) % _window];
        bool batchPending = next.Sequence == _lastExecuted + 1 && next.HasPrePrepare && next.View == _view && !next.Executed;
        if (batchPending)
        {
            // The timer runs from when this batch was first seen pending (this runs every tick), not only from the
            // last progress: after an idle spell longer than the timeout, the first batch would otherwise start a
            // view change at the first tick before it executes.
            if (_pendingSequence != next.Sequence || _pendingView != _view)
            {
                _pendingSequence = next.Sequence;
                _pendingView = _view;
                _pendingSince = _now;
            }
            if (_now - Math.Max(Math.Max(_lastProgressTick, _viewStartTick), _pendingSince) >= _o.RequestTimeoutTicks)
            {
                StartViewChange(_view + 1, outbox);
                return;
            }
        }
        if (IsPrimary) return;
        while (_queue.Count > 0)
        {
            ref var e = ref _queue.Peek();
            if (_clients.Check(e.Client, e.Number) == RequestState.New) break;
            _queue.Dequeue();
            _queueFrontSince = _now;
        }
        if (_queue.Count == 0) return;
        long since = Math.Max(_queue.Peek().ArrivalTick, Math.Max(_viewStartTick, _queueFrontSince));
        if (_now - since >= _o.RequestTimeoutTicks) StartViewChange(_view + 1, outbox);
    }

    private void OnViewChangeTimeout(Outbox outbox)
    {
        if (_viewActive || _viewChangeDeadline == 0 || _now < _viewChangeDeadline) return;
        _viewChangeTimeout = Math.Min(_viewChangeTimeout * 2, _o.ViewChangeTimeoutMaxTicks);
        StartViewChange(_view + 1, outbox);
    }

    private void StartViewChange(ulong newView, Outbox outbox)
    {
        Invariant.Check(newView > _view);
        _view = newView;
        _viewActive = false;
        _viewChangeDeadline = 0;
        _newViewBytes = null;
        _inFlight.Clear();
        var vc = BuildViewChange(newView);
        _viewChanges[_self] = vc;
        _ownViewChangeBytes = vc.Encode();
        var span = outbox.Reserve(Records.ViewChangeLengthMax);
        ulong id = NextPersistId();
        int length = Records.WriteViewChange(span, id, newView);
        outbox.Commit(OutputKind.Persist, -1, id, 0, 0, Hash256.Zero, length);
        _ownViewChangeRecordId = id;
        outbox.AddCopy(OutputKind.BroadcastAfterPersist, -1, id, _ownViewChangeBytes);
        OnViewChangeQuorum(outbox);
    }

    private ViewChangeMessage BuildViewChange(ulong newView)
    {
        var prepared = new List<PreparedCertificate>();
        var bodies = new List<byte[]>();
        for (ulong seq = _stable.Sequence + 1; seq <= _stable.Sequence + _window; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence != seq || !slot.HasCertificate) continue;
            prepared.Add(slot.ToCertificate());
            if (slot.TryGetBody(slot.CertificateDigest, out var body)) bodies.Add(body.ToArray());
        }
        return ViewChangeMessage.Create(_signer, _ctx, newView, _self, _stable, prepared, bodies);
    }

    private void OnViewChange(ReadOnlySpan<byte> message, Outbox outbox)
    {
        var vc = ViewChangeMessage.TryDecode(message, _ctx, _o.WatermarkWindow, _o.BatchBytesMax);
        if (vc is null)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if ((uint)vc.Replica >= (uint)_n)
        {
            Reject(RejectReason.UnknownSender);
            return;
        }
        if (vc.NewView < _view || (vc.NewView == _view && _viewActive))
        {
            Reject(RejectReason.WrongView);
            return;
        }
        var existing = _viewChanges[vc.Replica];
        if (vc.Replica == _self || (existing is not null && existing.NewView >= vc.NewView))
        {
            Reject(RejectReason.Duplicate);
            return;
        }
        if (!ValidateViewChange(vc)) return;
        _viewChanges[vc.Replica] = vc;
        if (vc.NewView > _view) TryJoinHigherView(outbox);
        OnViewChangeQuorum(outbox);
    }

    /// <summary>Signature, checkpoint proof and every prepared certificate; counts the reason on failure.</summary>
    private bool ValidateViewChange(ViewChangeMessage vc)
    {
        if (!vc.VerifySignature(_signer, _ctx)) return !RejectTrue(RejectReason.BadSignature);
        if (vc.Stable.Sequence % (ulong)_o.CheckpointInterval != 0 || !vc.Stable.Verify(_signer, _ctx, _genesisDigest))
        {
            return !RejectTrue(RejectReason.BadProof);
        }
        ulong previous = vc.Stable.Sequence;
        foreach (var p in vc.Prepared)
        {
            bool ok = p.Sequence > previous && p.Sequence <= vc.Stable.Sequence + _window && p.View < vc.NewView && p.Verify(_signer, _ctx);
            if (!ok) return !RejectTrue(RejectReason.BadProof);
            previous = p.Sequence;
        }
        return true;
    }

    /// <summary>f+1 replicas want a higher view: at least one is honest, so follow to the smallest of them.</summary>
    private void TryJoinHigherView(Outbox outbox)
    {
        int count = 0;
        ulong smallest = ulong.MaxValue;
        for (int i = 0; i < _n; i++)
        {
            var vc = _viewChanges[i];
            if (i == _self || vc is null || vc.NewView <= _view) continue;
            count++;
            smallest = Math.Min(smallest, vc.NewView);
        }
        if (count >= _ctx.WeakQuorum) StartViewChange(smallest, outbox);
    }

    /// <summary>2f+1 replicas have left the old view: start the view-change timer. Replicas already asking
    /// for a later view count too (they will never serve the old one), otherwise a Byzantine replica that
    /// withholds its view change could strand the others one view behind a replica that moved on.
    /// The new primary needs 2f+1 view changes for exactly this view to build NEW-VIEW.</summary>
    private void OnViewChangeQuorum(Outbox outbox)
    {
        if (_viewActive || CountViewChanges(_view, orLater: true) < _ctx.Quorum) return;
        if (_viewChangeDeadline == 0) _viewChangeDeadline = _now + _viewChangeTimeout;
        if (IsPrimary && CountViewChanges(_view, orLater: false) >= _ctx.Quorum) SendNewView(outbox);
    }

    private int CountViewChanges(ulong view, bool orLater)
    {
        int count = 0;
        foreach (var vc in _viewChanges)
        {
            if (vc is not null && (vc.NewView == view || (orLater && vc.NewView > view))) count++;
        }
        return count;
    }

    private void SendNewView(Outbox outbox)
    {
        var vcs = new List<ViewChangeMessage>(_ctx.Quorum);
        foreach (var vc in _viewChanges)
        {
            if (vc is not null && vc.NewView == _view && vcs.Count < _ctx.Quorum) vcs.Add(vc);
        }
        ComputeNewView(vcs, out var minCert, out var digests);
        var known = BodiesByDigest(vcs.SelectMany(v => v.Bodies));
        var bodies = new List<byte[]>();
        for (int i = 0; i < digests.Count; i++)
        {
            ulong seq = minCert.Sequence + 1 + (ulong)i;
            if (digests[i] == _nullDigest) continue;
            var slot = _slots[seq % _window];
            if (slot.Sequence == seq && slot.TryGetBody(digests[i], out var body)) bodies.Add(body.ToArray());
            else if (known.TryGetValue(digests[i], out var b)) bodies.Add(b);
        }
        var nv = NewViewMessage.Create(_signer, _ctx, _view, _self, vcs, minCert.Sequence, digests, bodies);
        InstallNewView(nv, minCert, nv.Encode(), BodiesByDigest(bodies), outbox);
    }

    /// <summary>O from V: start at the highest stable checkpoint; each sequence up to the highest prepared
    /// one gets the digest prepared in the highest view, or the null batch.</summary>
    private void ComputeNewView(List<ViewChangeMessage> vcs, out CheckpointCertificate minCert, out List<Hash256> digests)
    {
        minCert = vcs[0].Stable;
        foreach (var vc in vcs)
        {
            if (vc.Stable.Sequence > minCert.Sequence) minCert = vc.Stable;
        }
        ulong maxS = minCert.Sequence;
        foreach (var vc in vcs)
        {
            foreach (var p in vc.Prepared) maxS = Math.Max(maxS, p.Sequence);
        }
        digests = new List<Hash256>((int)(maxS - minCert.Sequence));
        for (ulong seq = minCert.Sequence + 1; seq <= maxS; seq++)
        {
            PreparedCertificate? best = null;
            foreach (var vc in vcs)
            {
                foreach (var p in vc.Prepared)
                {
                    if (p.Sequence == seq && (best is null || p.View > best.View)) best = p;
                }
            }
            digests.Add(best?.Digest ?? _nullDigest);
        }
    }

    private Dictionary<Hash256, byte[]> BodiesByDigest(IEnumerable<byte[]> bodies)
    {
        var map = new Dictionary<Hash256, byte[]>();
        foreach (var body in bodies)
        {
            if (Wire.TryValidateBatch(body, _o.BatchRequestsMax, _o.RequestBytesMax, out _)) map.TryAdd(Wire.BatchDigest(body), body);
        }
        return map;
    }

    private void OnNewView(ReadOnlySpan<byte> message, Outbox outbox)
    {
        var nv = NewViewMessage.TryDecode(message, _ctx, _o.WatermarkWindow, _o.BatchBytesMax);
        if (nv is null)
        {
            Reject(RejectReason.Malformed);
            return;
        }
        if (IgnoreNewView(nv)) return;
        if (!nv.VerifySignature(_signer, _ctx))
        {
            Reject(RejectReason.BadSignature);
            return;
        }
        CheckpointCertificate? minCert = (_bugs & PlantedBug.SkipNewViewProofCheck) != 0 ? UncheckedMinCert(nv) : CheckNewViewProof(nv);
        if (minCert is null) return;
        for (int i = 0; i < nv.Digests.Count; i++)
        {
            ulong seq = nv.MinSequence + 1 + (ulong)i;
            if (!Statement.Verify(_signer, StatementKind.PrePrepare, _ctx, nv.View, seq, nv.Digests[i], nv.Replica, nv.PrePrepareSignatures[i]))
            {
                Reject(RejectReason.BadSignature);
                return;
            }
        }
        InstallNewView(nv, minCert, message.ToArray(), BodiesByDigest(nv.Bodies), outbox);
    }

    private bool IgnoreNewView(NewViewMessage nv)
    {
        if ((uint)nv.Replica >= (uint)_n) return RejectTrue(RejectReason.UnknownSender);
        if (nv.View == 0 || nv.View < _view) return RejectTrue(RejectReason.WrongView);
        if (nv.View == _view && _viewActive) return RejectTrue(RejectReason.Duplicate);
        if (nv.Replica != _ctx.Primary(nv.View)) return RejectTrue(RejectReason.NotPrimary);
        if (nv.Replica == _self) return RejectTrue(RejectReason.Duplicate);
        return false;
    }

    /// <summary>V holds 2f+1 valid view changes for this view from distinct replicas, and O is exactly what
    /// they imply. Returns the checkpoint the new view starts from, or null (counted) if anything fails.</summary>
    private CheckpointCertificate? CheckNewViewProof(NewViewMessage nv)
    {
        var vcs = new List<ViewChangeMessage>(nv.ViewChanges.Count);
        ulong seen = 0;
        foreach (var vc in nv.ViewChanges)
        {
            if (vc.NewView != nv.View || (uint)vc.Replica >= (uint)_n || vc.Replica >= 64 || (seen & (1UL << vc.Replica)) != 0)
            {
                Reject(RejectReason.BadProof);
                return null;
            }
            seen |= 1UL << vc.Replica;
            if (!ValidateViewChange(vc)) return null;
            vcs.Add(vc);
        }
        if (vcs.Count < _ctx.Quorum)
        {
            Reject(RejectReason.BadProof);
            return null;
        }
        ComputeNewView(vcs, out var minCert, out var digests);
        bool same = minCert.Sequence == nv.MinSequence && digests.Count == nv.Digests.Count;
        for (int i = 0; same && i < digests.Count; i++) same = digests[i] == nv.Digests[i];
        if (!same)
        {
            Reject(RejectReason.BadProof);
            return null;
        }
        return minCert;
    }

    /// <summary>Planted bug: trusts O as sent, taking the checkpoint from V without checking anything.</summary>
    private CheckpointCertificate UncheckedMinCert(NewViewMessage nv)
    {
        foreach (var vc in nv.ViewChanges)
        {
            if (vc.Stable.Sequence == nv.MinSequence) return vc.Stable;
        }
        return _stable;
    }

    private void InstallNewView(NewViewMessage nv, CheckpointCertificate minCert, byte[] bytes, Dictionary<Hash256, byte[]> bodies, Outbox outbox)
    {
        _view = nv.View;
        _viewActive = true;
        _viewStartTick = _now;
        _queueFrontSince = _now;
        _viewChangeDeadline = 0;
        _newViewBytes = bytes;
        _inFlight.Clear();
        if (minCert.Sequence > _stable.Sequence) AdoptStableCertificate(minCert, outbox);
        // The O pre-prepares are recorded first and the NEW-VIEW record last, and every message of the new
        // view waits for the latter: a log that recovers the NEW-VIEW record also holds all of O.
        for (int i = 0; i < nv.Digests.Count; i++)
        {
            ulong seq = nv.MinSequence + 1 + (ulong)i;
            if (!InWindow(seq)) continue;
            var slot = SlotFor(seq);
            var digest = nv.Digests[i];
            slot.BeginView(nv.View, digest, nv.PrePrepareSignatures[i]);
            if (!slot.HasBody) FillBody(slot, digest, bodies);
            PersistPrePrepare(slot, outbox);
        }
        var span = outbox.Reserve(Records.NewViewLengthMax(bytes.Length));
        ulong viewRecordId = NextPersistId();
        int length = Records.WriteNewView(span, viewRecordId, nv.View, bytes);
        outbox.Commit(OutputKind.Persist, -1, viewRecordId, 0, 0, Hash256.Zero, length);
        for (int i = 0; i < nv.Digests.Count && !IsPrimary; i++)
        {
            ulong seq = nv.MinSequence + 1 + (ulong)i;
            if (InWindow(seq)) SendPrepare(SlotFor(seq), viewRecordId, outbox);
        }
        if (IsPrimary)
        {
            outbox.AddCopy(OutputKind.BroadcastAfterPersist, -1, viewRecordId, bytes);
            _nextSequence = Math.Max(nv.MinSequence + (ulong)nv.Digests.Count, _stable.Sequence) + 1;
        }
        outbox.Add(OutputKind.ViewInstalled, -1, 0, 0, _view, Hash256.Zero);
        for (ulong seq = _stable.Sequence + 1; seq <= _stable.Sequence + _window; seq++)
        {
            var slot = _slots[seq % _window];
            if (slot.Sequence == seq && slot.HasPrePrepare && slot.View == _view) CheckPrepared(slot, outbox);
        }
        TryExecute(outbox);
        if (IsPrimary) TryCutBatches(outbox);
    }

    private void FillBody(Slot slot, in Hash256 digest, Dictionary<Hash256, byte[]> bodies)
    {
        if (digest == _nullDigest) slot.SetBody([0]);
        else if (slot.TryGetBody(digest, out var own)) slot.SetBody(own);
        else if (bodies.TryGetValue(digest, out var body)) slot.SetBody(body);
    }
}
