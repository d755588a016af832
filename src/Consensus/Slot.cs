using Chainspace.Core;

namespace Chainspace.Consensus;

/// <summary>Per-replica votes (Prepare or Commit) for one sequence number: the latest from each sender.</summary>
internal sealed class VoteSet
{
    public readonly bool[] Has;
    public readonly ulong[] View;
    public readonly Hash256[] Digest;
    public readonly byte[] Signatures;

    public VoteSet(int n)
    {
        Has = new bool[n];
        View = new ulong[n];
        Digest = new Hash256[n];
        Signatures = new byte[n * IReplicaSigner.SignatureSize];
    }

    public Span<byte> Signature(int replica) => Signatures.AsSpan(replica * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize);

    public void Set(int replica, ulong view, in Hash256 digest, ReadOnlySpan<byte> signature)
    {
        Has[replica] = true;
        View[replica] = view;
        Digest[replica] = digest;
        signature.CopyTo(Signature(replica));
    }

    public int Count(ulong view, in Hash256 digest, int excluded)
    {
        int count = 0;
        for (int i = 0; i < Has.Length; i++)
        {
            if (i != excluded && Has[i] && View[i] == view && Digest[i] == digest) count++;
        }
        return count;
    }

    public void Clear() => Array.Clear(Has);
}

/// <summary>
/// One sequence number in the watermark window: the pre-prepare accepted in the current view (with its batch
/// body), the votes for it, and the prepared certificate from the highest view it prepared in, which a view
/// change must carry forward. Slots live in a ring indexed by sequence modulo the window and are reused.
/// </summary>
internal sealed class Slot
{
    public ulong Sequence;
    public ulong View;
    public bool HasPrePrepare;
    public Hash256 Digest;
    public readonly byte[] PrePrepareSignature = new byte[IReplicaSigner.SignatureSize];
    public Memory<byte> Body;
    public int BodyLength;
    public bool HasBody;
    public readonly VoteSet Prepares;
    public readonly VoteSet Commits;
    public bool Prepared;
    public bool SentPrepare;
    public bool SentCommit;
    public readonly byte[] OwnPrepareSignature = new byte[IReplicaSigner.SignatureSize];
    public readonly byte[] OwnCommitSignature = new byte[IReplicaSigner.SignatureSize];
    /// <summary>Committed at this replica (2f+1 commits after prepared, in some view): permanent.</summary>
    public bool CommittedLocal;
    public bool Executed;
    public long FetchTick;
    /// <summary>Persist id of the first record written for this sequence (0 = none): the log must keep it.</summary>
    public ulong FirstRecordId;

    // The prepared certificate from the highest view this sequence prepared in.
    // Held inline (not as a PreparedCertificate object) so preparing a batch allocates nothing.
    public bool HasCertificate;
    public ulong CertificateView;
    public Hash256 CertificateDigest;
    public readonly byte[] CertificatePrePrepareSignature = new byte[IReplicaSigner.SignatureSize];
    public readonly int[] CertificateReplicas;
    public readonly byte[] CertificateSignatures;
    public int CertificateCount;
    public Memory<byte> CertificateBody;
    public int CertificateBodyLength;
    public bool CertificateHasBody;

    private readonly SlotBodyArena _bodies;

    public Slot(int n, SlotBodyArena bodies)
    {
        _bodies = bodies;
        Prepares = new VoteSet(n);
        Commits = new VoteSet(n);
        CertificateReplicas = new int[n];
        CertificateSignatures = new byte[n * IReplicaSigner.SignatureSize];
    }

    public ReadOnlySpan<byte> BodySpan => Body.Span[..BodyLength];

    public void Reset(ulong sequence)
    {
        Sequence = sequence;
        View = 0;
        HasPrePrepare = false;
        Digest = default;
        BodyLength = 0;
        HasBody = false;
        Prepares.Clear();
        Commits.Clear();
        Prepared = false;
        SentPrepare = false;
        SentCommit = false;
        CommittedLocal = false;
        Executed = false;
        FetchTick = 0;
        FirstRecordId = 0;
        HasCertificate = false;
        CertificateCount = 0;
        CertificateBodyLength = 0;
        CertificateHasBody = false;
    }

    /// <summary>Starts a new view's pre-prepare here: votes of older views no longer count.</summary>
    public void BeginView(ulong view, in Hash256 digest, ReadOnlySpan<byte> prePrepareSignature)
    {
        // Keep the certified body if the new digest replaces the one the certificate vouches for.
        if (HasBody && HasCertificate && CertificateDigest == Digest && Digest != digest) SaveCertificateBody();
        if (HasBody && Digest != digest) HasBody = false;
        View = view;
        Digest = digest;
        HasPrePrepare = true;
        prePrepareSignature.CopyTo(PrePrepareSignature);
        Prepared = false;
        SentPrepare = false;
        SentCommit = false;
    }

    public void SetBody(ReadOnlySpan<byte> body)
    {
        if (Body.Length < body.Length) Body = _bodies.Take(body.Length);
        body.CopyTo(Body.Span);
        BodyLength = body.Length;
        HasBody = true;
    }

    public void SaveCertificateBody()
    {
        if (CertificateBody.Length < BodyLength) CertificateBody = _bodies.Take(BodyLength);
        BodySpan.CopyTo(CertificateBody.Span);
        CertificateBodyLength = BodyLength;
        CertificateHasBody = true;
    }

    /// <summary>A body this slot holds for <paramref name="digest"/>, if any.</summary>
    public bool TryGetBody(in Hash256 digest, out ReadOnlySpan<byte> body)
    {
        if (HasPrePrepare && HasBody && Digest == digest)
        {
            body = BodySpan;
            return true;
        }
        if (HasCertificate && CertificateHasBody && CertificateDigest == digest)
        {
            body = CertificateBody.Span[..CertificateBodyLength];
            return true;
        }
        body = default;
        return false;
    }

    /// <summary>Records the prepared certificate of the current view from the pre-prepare and the prepares
    /// (excluding the primary); the body is the current one.</summary>
    public void TakeCertificate(int primary, int needed)
    {
        HasCertificate = true;
        CertificateView = View;
        CertificateDigest = Digest;
        PrePrepareSignature.CopyTo(CertificatePrePrepareSignature.AsSpan());
        CertificateHasBody = false;
        int count = 0;
        for (int i = 0; i < Prepares.Has.Length && count < needed; i++)
        {
            if (i == primary || !Prepares.Has[i] || Prepares.View[i] != View || Prepares.Digest[i] != Digest) continue;
            CertificateReplicas[count] = i;
            Prepares.Signature(i).CopyTo(CertificateSignatures.AsSpan(count * IReplicaSigner.SignatureSize));
            count++;
        }
        Invariant.Check(count == needed);
        CertificateCount = count;
    }

    public void SetCertificate(PreparedCertificate certificate)
    {
        HasCertificate = true;
        CertificateView = certificate.View;
        CertificateDigest = certificate.Digest;
        certificate.PrePrepareSignature.CopyTo(CertificatePrePrepareSignature.AsSpan());
        CertificateCount = certificate.Replicas.Length;
        for (int i = 0; i < CertificateCount; i++)
        {
            CertificateReplicas[i] = certificate.Replicas[i];
            certificate.Signatures[i].CopyTo(CertificateSignatures.AsSpan(i * IReplicaSigner.SignatureSize));
        }
        CertificateHasBody = false;
    }

    public PreparedCertificate ToCertificate()
    {
        var replicas = new int[CertificateCount];
        var sigs = new byte[CertificateCount][];
        for (int i = 0; i < CertificateCount; i++)
        {
            replicas[i] = CertificateReplicas[i];
            sigs[i] = CertificateSignatures.AsSpan(i * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize).ToArray();
        }
        return new PreparedCertificate(CertificateView, Sequence, CertificateDigest, CertificatePrePrepareSignature.ToArray(), replicas, sigs);
    }

    public int CertificateEncodedLength => 20 + Hash256.Size + IReplicaSigner.SignatureSize + 10 + CertificateCount * (3 + IReplicaSigner.SignatureSize);

    /// <summary>Same encoding as <see cref="PreparedCertificate.Write"/>, without materializing it.</summary>
    public void WriteCertificate(ref Chainspace.Core.Codec.SpanWriter w)
    {
        w.WriteVarUInt64(CertificateView);
        w.WriteVarUInt64(Sequence);
        w.WriteHash(CertificateDigest);
        w.WriteBytes(CertificatePrePrepareSignature);
        w.WriteVarUInt64((ulong)CertificateCount);
        for (int i = 0; i < CertificateCount; i++)
        {
            w.WriteVarUInt64((ulong)CertificateReplicas[i]);
            w.WriteBytes(CertificateSignatures.AsSpan(i * IReplicaSigner.SignatureSize, IReplicaSigner.SignatureSize));
        }
    }
}
