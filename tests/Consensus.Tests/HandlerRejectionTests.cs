using Chainspace.Core;

namespace Chainspace.Consensus.Tests;

/// <summary>
/// Every handler's rejection paths: the input is counted under its reason and dropped, with no output
/// and no state change (STYLE.md: test the negative space).
/// </summary>
public class HandlerRejectionTests
{
    private readonly TestCluster _c = new();
    private readonly Outbox _outbox = new();
    private static readonly byte[] Body = [1, 5, 7, 1, 0]; // one request: client 5, number 7, empty op

    private Replica Backup => _c.Replicas[1];

    private byte[] PrePrepare(int signer, ulong view, ulong seq, byte[]? body = null, Hash256? digest = null, int? claimed = null)
    {
        body ??= Body;
        var d = digest ?? Wire.BatchDigest(body);
        var sig = new byte[64];
        Statement.Sign(_c.Signers[signer], StatementKind.PrePrepare, _c.Context, view, seq, d, signer, sig);
        var buffer = new byte[Wire.PrePrepareLengthMax(body.Length)];
        int length = Wire.WritePrePrepare(buffer, view, seq, d, claimed ?? signer, sig, body);
        return buffer[..length];
    }

    private byte[] Vote(MessageType type, int signer, ulong view, ulong seq, Hash256 digest, int? claimed = null)
    {
        var kind = type == MessageType.Prepare ? StatementKind.Prepare : StatementKind.Commit;
        var sig = new byte[64];
        Statement.Sign(_c.Signers[signer], kind, _c.Context, view, seq, digest, signer, sig);
        var buffer = new byte[Wire.VoteLengthMax];
        int length = Wire.WriteVote(buffer, type, view, seq, digest, claimed ?? signer, sig);
        return buffer[..length];
    }

    private void AssertRejected(RejectReason reason, byte[] message, int from = 0, Replica? target = null)
    {
        target ??= Backup;
        long before = target.Rejected(reason);
        long total = target.TotalRejected;
        ulong executed = target.LastExecuted;
        ulong view = target.View;
        _outbox.Clear();
        target.Step(Input.Message(from, message), _outbox);
        Assert.Equal(before + 1, target.Rejected(reason));
        Assert.Equal(total + 1, target.TotalRejected);
        Assert.Equal(0, _outbox.Count);
        Assert.Equal(executed, target.LastExecuted);
        Assert.Equal(view, target.View);
    }

    [Fact]
    public void Message_FromUnknownSender_RejectedUnknownSender() =>
        AssertRejected(RejectReason.UnknownSender, PrePrepare(0, 0, 1), from: 9);

    [Fact]
    public void Message_Garbled_RejectedMalformed()
    {
        AssertRejected(RejectReason.Malformed, [0xEE, 1, 2]);
        var pp = PrePrepare(0, 0, 1);
        AssertRejected(RejectReason.Malformed, pp[..^3]);
        AssertRejected(RejectReason.Malformed, [.. pp, 0]);
    }

    [Fact]
    public void PrePrepare_WrongView_Rejected() => AssertRejected(RejectReason.WrongView, PrePrepare(1, 1, 1));

    [Fact]
    public void PrePrepare_FromBackup_RejectedNotPrimary() => AssertRejected(RejectReason.NotPrimary, PrePrepare(2, 0, 1));

    [Fact]
    public void PrePrepare_OutsideWatermarks_Rejected()
    {
        AssertRejected(RejectReason.OutsideWindow, PrePrepare(0, 0, 0));
        AssertRejected(RejectReason.OutsideWindow, PrePrepare(0, 0, (ulong)_c.Options.WatermarkWindow + 1));
    }

    [Fact]
    public void PrePrepare_BadSignature_Rejected()
    {
        var pp = PrePrepare(0, 0, 1);
        pp[^(Body.Length + 2)] ^= 0x40; // inside the signature
        AssertRejected(RejectReason.BadSignature, pp);
    }

    [Fact]
    public void PrePrepare_SignedByOtherReplicaClaimingPrimary_RejectedBadSignature() =>
        AssertRejected(RejectReason.BadSignature, PrePrepare(2, 0, 1, claimed: 0));

    [Fact]
    public void PrePrepare_BodyNotMatchingDigest_RejectedDigestMismatch() =>
        AssertRejected(RejectReason.DigestMismatch, PrePrepare(0, 0, 1, digest: Wire.BatchDigest([0])));

    [Fact]
    public void PrePrepare_MalformedBody_RejectedMalformed() =>
        AssertRejected(RejectReason.Malformed, PrePrepare(0, 0, 1, body: [3, 1]));

    [Fact]
    public void PrePrepare_Duplicate_RejectedDuplicate_AndConflictingRejectedConflict()
    {
        _outbox.Clear();
        Backup.Step(Input.Message(0, PrePrepare(0, 0, 1)), _outbox);
        Assert.True(_outbox.Count > 0);
        AssertRejected(RejectReason.Duplicate, PrePrepare(0, 0, 1));
        AssertRejected(RejectReason.Conflict, PrePrepare(0, 0, 1, body: [1, 6, 7, 1, 0]));
    }

    [Fact]
    public void Prepare_RejectionPaths()
    {
        var d = Wire.BatchDigest(Body);
        AssertRejected(RejectReason.WrongView, Vote(MessageType.Prepare, 2, 3, 1, d));
        AssertRejected(RejectReason.NotPrimary, Vote(MessageType.Prepare, 0, 0, 1, d));
        AssertRejected(RejectReason.OutsideWindow, Vote(MessageType.Prepare, 2, 0, 100, d));
        AssertRejected(RejectReason.UnknownSender, Vote(MessageType.Prepare, 2, 0, 1, d, claimed: 40));
        AssertRejected(RejectReason.BadSignature, Vote(MessageType.Prepare, 2, 0, 1, d, claimed: 3));
        _outbox.Clear();
        Backup.Step(Input.Message(2, Vote(MessageType.Prepare, 2, 0, 1, d)), _outbox);
        AssertRejected(RejectReason.Duplicate, Vote(MessageType.Prepare, 2, 0, 1, d));
        AssertRejected(RejectReason.Conflict, Vote(MessageType.Prepare, 2, 0, 1, Wire.BatchDigest([0])));
    }

    [Fact]
    public void Commit_RejectionPaths()
    {
        var d = Wire.BatchDigest(Body);
        AssertRejected(RejectReason.WrongView, Vote(MessageType.Commit, 2, 1, 1, d));
        AssertRejected(RejectReason.OutsideWindow, Vote(MessageType.Commit, 2, 0, 0, d));
        AssertRejected(RejectReason.BadSignature, Vote(MessageType.Commit, 2, 0, 1, d, claimed: 0));
        _outbox.Clear();
        Backup.Step(Input.Message(2, Vote(MessageType.Commit, 2, 0, 1, d)), _outbox);
        AssertRejected(RejectReason.Duplicate, Vote(MessageType.Commit, 2, 0, 1, d));
    }

    [Fact]
    public void Vote_AfterItsCertificateIsComplete_IgnoredUnverifiedWithNoStateChange()
    {
        var d = Wire.BatchDigest(Body);
        _c.Step(1, Input.Message(0, PrePrepare(0, 0, 1)));            // the backup accepts and prepares (durable at once)
        _c.Step(1, Input.Message(2, Vote(MessageType.Prepare, 2, 0, 1, d)));   // 2f prepares: prepared, it commits
        var latePrepare = Vote(MessageType.Prepare, 3, 0, 1, d);
        latePrepare[^1] ^= 0x01;   // a broken signature: never looked at, since the vote cannot matter any more
        AssertIgnored(latePrepare, from: 3);
        // A prepare for another digest still costs its verification (equivocation is caught either way).
        AssertRejected(RejectReason.BadSignature, Vote(MessageType.Prepare, 2, 0, 1, Wire.BatchDigest([0]), claimed: 3), from: 3);

        _c.Step(1, Input.Message(0, Vote(MessageType.Commit, 0, 0, 1, d)));
        _c.Step(1, Input.Message(2, Vote(MessageType.Commit, 2, 0, 1, d)));    // with its own: 2f+1, executed
        Assert.Equal(1UL, Backup.LastExecuted);
        var lateCommit = Vote(MessageType.Commit, 3, 0, 1, d);
        lateCommit[^1] ^= 0x01;
        AssertIgnored(lateCommit, from: 3);
        Assert.Equal(2L, Backup.SurplusVotes);
    }

    private void AssertIgnored(byte[] message, int from)
    {
        long surplus = Backup.SurplusVotes;
        long rejected = Backup.TotalRejected;
        ulong executed = Backup.LastExecuted;
        _outbox.Clear();
        Backup.Step(Input.Message(from, message), _outbox);
        Assert.Equal(surplus + 1, Backup.SurplusVotes);
        Assert.Equal(rejected, Backup.TotalRejected);
        Assert.Equal(0, _outbox.Count);
        Assert.Equal(executed, Backup.LastExecuted);
    }

    [Fact]
    public void Checkpoint_RejectionPaths()
    {
        var digest = Wire.BatchDigest([9]);
        byte[] Checkpoint(int signer, ulong seq, int? claimed = null)
        {
            var sig = new byte[64];
            Statement.Sign(_c.Signers[signer], StatementKind.Checkpoint, _c.Context, 0, seq, digest, signer, sig);
            var buffer = new byte[Wire.CheckpointLengthMax];
            return buffer[..Wire.WriteCheckpoint(buffer, seq, digest, claimed ?? signer, sig)];
        }
        AssertRejected(RejectReason.OutsideWindow, Checkpoint(2, 3)); // not a checkpoint sequence
        AssertRejected(RejectReason.OutsideWindow, Checkpoint(2, 400));
        AssertRejected(RejectReason.BadSignature, Checkpoint(2, 4, claimed: 3));
        AssertRejected(RejectReason.UnknownSender, Checkpoint(2, 4, claimed: 11));
        _outbox.Clear();
        Backup.Step(Input.Message(2, Checkpoint(2, 4)), _outbox);
        AssertRejected(RejectReason.Duplicate, Checkpoint(2, 4));
    }

    [Fact]
    public void ViewChange_RejectionPaths()
    {
        var genesis = CheckpointCertificate.Genesis(Backup.GenesisDigest);
        byte[] Vc(int signer, ulong view, CheckpointCertificate? stable = null, List<PreparedCertificate>? prepared = null) =>
            ViewChangeMessage.Create(_c.Signers[signer], _c.Context, view, signer, stable ?? genesis, prepared ?? [], []).Encode();

        var bad = Vc(2, 1);
        bad[10] ^= 1; // inside the signed content
        AssertRejected(RejectReason.BadSignature, bad);
        AssertRejected(RejectReason.BadProof, Vc(2, 1, stable: CheckpointCertificate.Genesis(Wire.BatchDigest([1]))));
        var forged = new PreparedCertificate(0, 1, Wire.BatchDigest(Body), new byte[64], [1, 2], [new byte[64], new byte[64]]);
        AssertRejected(RejectReason.BadProof, Vc(2, 1, prepared: [forged]));
        var fake = new byte[64];
        var forgedStable = new CheckpointCertificate(4, Wire.BatchDigest([2]), [0, 2, 3], [fake, fake, fake]);
        AssertRejected(RejectReason.BadProof, Vc(2, 1, stable: forgedStable));
        _outbox.Clear();
        Backup.Step(Input.Message(2, Vc(2, 1)), _outbox);
        AssertRejected(RejectReason.Duplicate, Vc(2, 1));
    }

    [Fact]
    public void NewView_RejectionPaths()
    {
        var genesis = CheckpointCertificate.Genesis(Backup.GenesisDigest);
        var vcs = new List<ViewChangeMessage>();
        for (int i = 0; i < 3; i++) vcs.Add(ViewChangeMessage.Create(_c.Signers[i], _c.Context, 1, i, genesis, [], []));
        byte[] Nv(int signer, ulong view, List<Hash256> digests) =>
            NewViewMessage.Create(_c.Signers[signer], _c.Context, view, signer, vcs, 0, digests, []).Encode();

        var r2 = _c.Replicas[2];
        AssertRejected(RejectReason.NotPrimary, Nv(3, 1, []), target: r2);
        AssertRejected(RejectReason.WrongView, Nv(0, 0, []), target: r2);
        // O must follow from V: V proves nothing prepared, so a made-up batch at sequence 1 is refused.
        AssertRejected(RejectReason.BadProof, Nv(1, 1, [Wire.BatchDigest(Body)]), target: r2);
        var tooFew = NewViewMessage.Create(_c.Signers[1], _c.Context, 1, 1, vcs.Take(2).ToList(), 0, [], []).Encode();
        AssertRejected(RejectReason.BadProof, tooFew, target: r2);
        var bad = Nv(1, 1, []);
        bad[^2] ^= 1; // inside the new primary's signature (the body count follows it)
        AssertRejected(RejectReason.BadSignature, bad, target: r2);
    }

    [Fact]
    public void NewView_Valid_InstallsViewAndReplicaPreparesNothingExtra()
    {
        var genesis = CheckpointCertificate.Genesis(Backup.GenesisDigest);
        var vcs = new List<ViewChangeMessage>();
        for (int i = 0; i < 3; i++) vcs.Add(ViewChangeMessage.Create(_c.Signers[i], _c.Context, 1, i, genesis, [], []));
        var nv = NewViewMessage.Create(_c.Signers[1], _c.Context, 1, 1, vcs, 0, [], []).Encode();
        _outbox.Clear();
        _c.Replicas[2].Step(Input.Message(1, nv), _outbox);
        Assert.Equal(1UL, _c.Replicas[2].View);
        Assert.True(_c.Replicas[2].ViewActive);
    }

    [Fact]
    public void StateSnapshot_UnaskedOrForgedProof_Rejected()
    {
        var fake = new byte[64];
        var cert = new CheckpointCertificate(4, Wire.BatchDigest([2]), [0, 2, 3], [fake, fake, fake]);
        // A piece nobody asked for is refused before anything is checked (SnapshotPieceTests: forged pieces
        // from the replica that was asked).
        AssertRejected(RejectReason.Unsolicited, StateMessages.EncodeSnapshotPiece(cert, Hash256.Zero, [], 0, 0, []));
        AssertRejected(RejectReason.BadProof, StateMessages.EncodeCheckpointProof(cert));
    }
}
