using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>
/// Proof that a checkpoint is stable: 2f+1 signed Checkpoint statements for (sequence, state digest) from
/// distinct replicas. Sequence 0 (the initial state) needs no signatures: every replica knows its digest.
/// </summary>
public sealed class CheckpointCertificate
{
    public CheckpointCertificate(ulong sequence, Hash256 digest, int[] replicas, byte[][] signatures)
    {
        Invariant.Check(replicas.Length == signatures.Length);
        Sequence = sequence;
        Digest = digest;
        Replicas = replicas;
        Signatures = signatures;
    }

    public ulong Sequence { get; }
    public Hash256 Digest { get; }
    public int[] Replicas { get; }
    public byte[][] Signatures { get; }

    public static CheckpointCertificate Genesis(Hash256 digest) => new(0, digest, [], []);

    public int EncodedLength => 10 + Hash256.Size + 10 + Replicas.Length * (3 + IReplicaSigner.SignatureSize);

    public void Write(ref SpanWriter w)
    {
        w.WriteVarUInt64(Sequence);
        w.WriteHash(Digest);
        w.WriteVarUInt64((ulong)Replicas.Length);
        for (int i = 0; i < Replicas.Length; i++)
        {
            w.WriteVarUInt64((ulong)Replicas[i]);
            w.WriteBytes(Signatures[i]);
        }
    }

    public static CheckpointCertificate? TryRead(ref SpanReader r, int n)
    {
        if (!r.TryReadVarUInt64(out ulong seq) || !r.TryReadHash(out var digest)) return null;
        if (!r.TryReadCount(n, 1 + IReplicaSigner.SignatureSize, out int count)) return null;
        var replicas = new int[count];
        var sigs = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            if (!Wire.TryReadSigner(ref r, out replicas[i]) || !r.TryReadBytes(IReplicaSigner.SignatureSize, out var sig)) return null;
            sigs[i] = sig.ToArray();
        }
        return new CheckpointCertificate(seq, digest, replicas, sigs);
    }

    /// <summary>2f+1 valid signatures from distinct replicas of the shard (or the known genesis digest).</summary>
    public bool Verify(IReplicaSigner signer, in ShardContext context, in Hash256 genesisDigest)
    {
        if (Sequence == 0) return Digest == genesisDigest;
        if (Replicas.Length < context.Quorum || !Distinct(Replicas, context.N)) return false;
        for (int i = 0; i < Replicas.Length; i++)
        {
            if (!Statement.Verify(signer, StatementKind.Checkpoint, context, 0, Sequence, Digest, Replicas[i], Signatures[i])) return false;
        }
        return true;
    }

    internal static bool Distinct(int[] replicas, int n)
    {
        ulong seen = 0;
        Span<bool> seenLarge = n <= 64 ? default : stackalloc bool[n];
        foreach (int r in replicas)
        {
            if ((uint)r >= (uint)n) return false;
            if (n <= 64)
            {
                if ((seen & (1UL << r)) != 0) return false;
                seen |= 1UL << r;
            }
            else
            {
                if (seenLarge[r]) return false;
                seenLarge[r] = true;
            }
        }
        return true;
    }
}

/// <summary>
/// A prepared certificate: the primary's signed pre-prepare for (view, sequence, digest) and 2f signed
/// prepares from distinct backups. It is what a view change carries so the new view keeps every batch
/// that may have committed.
/// </summary>
public sealed class PreparedCertificate
{
    public PreparedCertificate(ulong view, ulong sequence, Hash256 digest, byte[] prePrepareSignature, int[] replicas, byte[][] signatures)
    {
        Invariant.Check(replicas.Length == signatures.Length);
        View = view;
        Sequence = sequence;
        Digest = digest;
        PrePrepareSignature = prePrepareSignature;
        Replicas = replicas;
        Signatures = signatures;
    }

    public ulong View { get; }
    public ulong Sequence { get; }
    public Hash256 Digest { get; }
    public byte[] PrePrepareSignature { get; }
    public int[] Replicas { get; }
    public byte[][] Signatures { get; }

    public int EncodedLength => 20 + Hash256.Size + IReplicaSigner.SignatureSize + 10 + Replicas.Length * (3 + IReplicaSigner.SignatureSize);

    public void Write(ref SpanWriter w)
    {
        w.WriteVarUInt64(View);
        w.WriteVarUInt64(Sequence);
        w.WriteHash(Digest);
        w.WriteBytes(PrePrepareSignature);
        w.WriteVarUInt64((ulong)Replicas.Length);
        for (int i = 0; i < Replicas.Length; i++)
        {
            w.WriteVarUInt64((ulong)Replicas[i]);
            w.WriteBytes(Signatures[i]);
        }
    }

    public static PreparedCertificate? TryRead(ref SpanReader r, int n)
    {
        if (!r.TryReadVarUInt64(out ulong view) || !r.TryReadVarUInt64(out ulong seq) || !r.TryReadHash(out var digest)) return null;
        if (!r.TryReadBytes(IReplicaSigner.SignatureSize, out var ppSig)) return null;
        if (!r.TryReadCount(n, 1 + IReplicaSigner.SignatureSize, out int count)) return null;
        var replicas = new int[count];
        var sigs = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            if (!Wire.TryReadSigner(ref r, out replicas[i]) || !r.TryReadBytes(IReplicaSigner.SignatureSize, out var sig)) return null;
            sigs[i] = sig.ToArray();
        }
        return new PreparedCertificate(view, seq, digest, ppSig.ToArray(), replicas, sigs);
    }

    public bool Verify(IReplicaSigner signer, in ShardContext context)
    {
        int primary = context.Primary(View);
        if (Replicas.Length < 2 * context.F || !CheckpointCertificate.Distinct(Replicas, context.N)) return false;
        if (!Statement.Verify(signer, StatementKind.PrePrepare, context, View, Sequence, Digest, primary, PrePrepareSignature)) return false;
        for (int i = 0; i < Replicas.Length; i++)
        {
            if (Replicas[i] == primary) return false;
            if (!Statement.Verify(signer, StatementKind.Prepare, context, View, Sequence, Digest, Replicas[i], Signatures[i])) return false;
        }
        return true;
    }
}
