using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>
/// VIEW-CHANGE(v+1, n, C, P, i) signed by replica i: its stable checkpoint with proof, and a prepared
/// certificate for every sequence above it. The batch bodies behind those certificates travel after the
/// signature, unsigned: each is checked against a certified digest, so nobody can slip in another body.
/// Wire: [type][content blob][signature][body count][body blob]*.
/// </summary>
public sealed class ViewChangeMessage
{
    private ViewChangeMessage(ulong newView, int replica, CheckpointCertificate stable, List<PreparedCertificate> prepared,
        byte[] content, byte[] signature, List<byte[]> bodies)
    {
        NewView = newView;
        Replica = replica;
        Stable = stable;
        Prepared = prepared;
        Content = content;
        Signature = signature;
        Bodies = bodies;
    }

    public ulong NewView { get; }
    public int Replica { get; }
    public CheckpointCertificate Stable { get; }
    public IReadOnlyList<PreparedCertificate> Prepared { get; }
    /// <summary>The signed bytes.</summary>
    public byte[] Content { get; }
    public byte[] Signature { get; }
    public IReadOnlyList<byte[]> Bodies { get; }

    public static ViewChangeMessage Create(IReplicaSigner signer, in ShardContext context, ulong newView, int replica,
        CheckpointCertificate stable, List<PreparedCertificate> prepared, List<byte[]> bodies)
    {
        int length = 30 + stable.EncodedLength + 10;
        foreach (var p in prepared) length += p.EncodedLength;
        var buffer = new byte[length];
        var w = new SpanWriter(buffer);
        w.WriteVarUInt64(newView);
        w.WriteVarUInt64((ulong)replica);
        stable.Write(ref w);
        w.WriteVarUInt64((ulong)prepared.Count);
        foreach (var p in prepared) p.Write(ref w);
        var content = w.WrittenSpan.ToArray();
        var signature = new byte[IReplicaSigner.SignatureSize];
        Statement.Sign(signer, StatementKind.ViewChange, context, newView, stable.Sequence, ContentDigest(content), replica, signature);
        return new ViewChangeMessage(newView, replica, stable, prepared, content, signature, bodies);
    }

    public static Hash256 ContentDigest(ReadOnlySpan<byte> content) => Hashing.Sha256(content);

    public bool VerifySignature(IReplicaSigner signer, in ShardContext context) =>
        Statement.Verify(signer, StatementKind.ViewChange, context, NewView, Stable.Sequence, ContentDigest(Content), Replica, Signature);

    public byte[] Encode() => SignedEnvelope.Encode(MessageType.ViewChange, Content, Signature, Bodies);

    public static ViewChangeMessage? TryDecode(ReadOnlySpan<byte> message, in ShardContext context, int window, int bodyBytesMax)
    {
        if (!SignedEnvelope.TryDecode(message, MessageType.ViewChange, window, bodyBytesMax, out var content, out var sig, out var bodies)) return null;
        return TryDecodeContent(content, sig, bodies, context, window);
    }

    internal static ViewChangeMessage? TryDecodeContent(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature, List<byte[]> bodies,
        in ShardContext context, int window)
    {
        var r = new SpanReader(content);
        if (!r.TryReadVarUInt64(out ulong newView) || !Wire.TryReadSigner(ref r, out int replica)) return null;
        var stable = CheckpointCertificate.TryRead(ref r, context.N);
        if (stable is null || !r.TryReadCount(window, 1, out int count)) return null;
        var prepared = new List<PreparedCertificate>(count);
        for (int i = 0; i < count; i++)
        {
            var p = PreparedCertificate.TryRead(ref r, context.N);
            if (p is null) return null;
            prepared.Add(p);
        }
        if (!r.TryExpectEnd()) return null;
        return new ViewChangeMessage(newView, replica, stable, prepared, content.ToArray(), signature.ToArray(), bodies);
    }
}

/// <summary>
/// NEW-VIEW(v+1, V, O) signed by the new primary: 2f+1 view-change messages (without bodies) and, for every
/// sequence between the highest stable checkpoint in V and the highest prepared sequence in V, the digest
/// the new view re-proposes (the highest-view prepared digest, or the null batch) with the primary's
/// pre-prepare signature. Bodies the primary holds travel after the signature, checked by digest.
/// Wire: [type][content blob][signature][body count][body blob]*; content:
/// [view][replica][V count]([vc content blob][vc signature])*[min-s][max-s]([digest][pre-prepare sig])*.
/// </summary>
public sealed class NewViewMessage
{
    private NewViewMessage(ulong view, int replica, List<ViewChangeMessage> viewChanges, ulong minSequence,
        List<Hash256> digests, List<byte[]> prePrepareSignatures, byte[] content, byte[] signature, List<byte[]> bodies)
    {
        View = view;
        Replica = replica;
        ViewChanges = viewChanges;
        MinSequence = minSequence;
        Digests = digests;
        PrePrepareSignatures = prePrepareSignatures;
        Content = content;
        Signature = signature;
        Bodies = bodies;
    }

    public ulong View { get; }
    public int Replica { get; }
    public IReadOnlyList<ViewChangeMessage> ViewChanges { get; }
    /// <summary>min-s: the stable checkpoint the new view starts from; O covers min-s+1 .. min-s+Digests.Count.</summary>
    public ulong MinSequence { get; }
    public IReadOnlyList<Hash256> Digests { get; }
    public IReadOnlyList<byte[]> PrePrepareSignatures { get; }
    public byte[] Content { get; }
    public byte[] Signature { get; }
    public IReadOnlyList<byte[]> Bodies { get; }

    public static NewViewMessage Create(IReplicaSigner signer, in ShardContext context, ulong view, int replica,
        List<ViewChangeMessage> viewChanges, ulong minSequence, List<Hash256> digests, List<byte[]> bodies)
    {
        var ppSigs = new List<byte[]>(digests.Count);
        for (int i = 0; i < digests.Count; i++)
        {
            var sig = new byte[IReplicaSigner.SignatureSize];
            Statement.Sign(signer, StatementKind.PrePrepare, context, view, minSequence + 1 + (ulong)i, digests[i], replica, sig);
            ppSigs.Add(sig);
        }
        return CreateSigned(signer, context, view, replica, viewChanges, minSequence, digests, ppSigs, bodies);
    }

    /// <summary>Builds and signs with the given pre-prepare signatures (the simulator's Byzantine primary uses this directly).</summary>
    public static NewViewMessage CreateSigned(IReplicaSigner signer, in ShardContext context, ulong view, int replica,
        List<ViewChangeMessage> viewChanges, ulong minSequence, List<Hash256> digests, List<byte[]> prePrepareSignatures, List<byte[]> bodies)
    {
        int length = 40 + digests.Count * (Hash256.Size + IReplicaSigner.SignatureSize);
        foreach (var vc in viewChanges) length += 10 + vc.Content.Length + IReplicaSigner.SignatureSize;
        var buffer = new byte[length];
        var w = new SpanWriter(buffer);
        w.WriteVarUInt64(view);
        w.WriteVarUInt64((ulong)replica);
        w.WriteVarUInt64((ulong)viewChanges.Count);
        foreach (var vc in viewChanges)
        {
            w.WriteBlob(vc.Content);
            w.WriteBytes(vc.Signature);
        }
        w.WriteVarUInt64(minSequence);
        w.WriteVarUInt64((ulong)digests.Count);
        for (int i = 0; i < digests.Count; i++)
        {
            w.WriteHash(digests[i]);
            w.WriteBytes(prePrepareSignatures[i]);
        }
        var content = w.WrittenSpan.ToArray();
        var signature = new byte[IReplicaSigner.SignatureSize];
        Statement.Sign(signer, StatementKind.NewView, context, view, minSequence, ViewChangeMessage.ContentDigest(content), replica, signature);
        return new NewViewMessage(view, replica, viewChanges, minSequence, digests, prePrepareSignatures, content, signature, bodies);
    }

    public bool VerifySignature(IReplicaSigner signer, in ShardContext context) =>
        Statement.Verify(signer, StatementKind.NewView, context, View, MinSequence, ViewChangeMessage.ContentDigest(Content), Replica, Signature);

    public byte[] Encode() => SignedEnvelope.Encode(MessageType.NewView, Content, Signature, Bodies);

    public static NewViewMessage? TryDecode(ReadOnlySpan<byte> message, in ShardContext context, int window, int bodyBytesMax)
    {
        if (!SignedEnvelope.TryDecode(message, MessageType.NewView, window, bodyBytesMax, out var content, out var sig, out var bodies)) return null;
        return TryDecodeContent(content, sig, bodies, context, window);
    }

    private static NewViewMessage? TryDecodeContent(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature, List<byte[]> bodies,
        in ShardContext context, int window)
    {
        var r = new SpanReader(content);
        if (!r.TryReadVarUInt64(out ulong view) || !Wire.TryReadSigner(ref r, out int replica)) return null;
        if (!r.TryReadCount(context.N, 1, out int vcCount)) return null;
        var vcs = new List<ViewChangeMessage>(vcCount);
        for (int i = 0; i < vcCount; i++)
        {
            if (!r.TryReadBlob(content.Length, out var vcContent) || !r.TryReadBytes(IReplicaSigner.SignatureSize, out var vcSig)) return null;
            var vc = ViewChangeMessage.TryDecodeContent(vcContent, vcSig, [], context, window);
            if (vc is null) return null;
            vcs.Add(vc);
        }
        if (!r.TryReadVarUInt64(out ulong minSeq) || !r.TryReadCount(window, Hash256.Size + IReplicaSigner.SignatureSize, out int count)) return null;
        var digests = new List<Hash256>(count);
        var sigs = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            if (!r.TryReadHash(out var d) || !r.TryReadBytes(IReplicaSigner.SignatureSize, out var s)) return null;
            digests.Add(d);
            sigs.Add(s.ToArray());
        }
        if (!r.TryExpectEnd()) return null;
        return new NewViewMessage(view, replica, vcs, minSeq, digests, sigs, content.ToArray(), signature.ToArray(), bodies);
    }
}

/// <summary>
/// The envelope view-change and new-view messages share: u8 type ‖ blob content ‖ signature ‖
/// varint n ‖ blob body × n. The signature covers the content's digest; the bodies are the batches
/// the content refers to.
/// </summary>
internal static class SignedEnvelope
{
    public static byte[] Encode(MessageType type, ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature, IReadOnlyList<byte[]> bodies)
    {
        int length = 1 + 10 + content.Length + IReplicaSigner.SignatureSize + 10;
        foreach (var b in bodies) length += 10 + b.Length;
        var buffer = new byte[length];
        var w = new SpanWriter(buffer);
        w.WriteByte((byte)type);
        w.WriteBlob(content);
        w.WriteBytes(signature);
        w.WriteVarUInt64((ulong)bodies.Count);
        foreach (var b in bodies) w.WriteBlob(b);
        return w.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> message, MessageType type, int window, int bodyBytesMax,
        out ReadOnlySpan<byte> content, out ReadOnlySpan<byte> signature, out List<byte[]> bodies)
    {
        var r = new SpanReader(message);
        content = signature = default;
        bodies = [];
        if (!r.TryReadByte(out byte t) || t != (byte)type) return false;
        if (!r.TryReadBlob(message.Length, out content) || !r.TryReadBytes(IReplicaSigner.SignatureSize, out signature)) return false;
        if (!r.TryReadCount(window, 1, out int bodyCount)) return false;
        bodies = new List<byte[]>(bodyCount);
        for (int i = 0; i < bodyCount; i++)
        {
            if (!r.TryReadBlob(bodyBytesMax, out var body)) return false;
            bodies.Add(body.ToArray());
        }
        return r.TryExpectEnd();
    }
}
