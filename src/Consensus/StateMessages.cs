using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>
/// State transfer messages. CHECKPOINT-PROOF tells a lagging replica that a checkpoint is stable;
/// STATE-SNAPSHOT carries the state at a stable checkpoint, which the receiver accepts only if it hashes
/// to the certified digest: checkpoint digest = H(sequence ‖ application digest ‖ H(client table)).
/// </summary>
public static class StateMessages
{
    public static byte[] EncodeCheckpointProof(CheckpointCertificate certificate)
    {
        var buffer = new byte[1 + certificate.EncodedLength];
        var w = new SpanWriter(buffer);
        w.WriteByte((byte)MessageType.CheckpointProof);
        certificate.Write(ref w);
        return w.WrittenSpan.ToArray();
    }

    public static CheckpointCertificate? TryDecodeCheckpointProof(ReadOnlySpan<byte> message, int n)
    {
        var r = new SpanReader(message);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.CheckpointProof) return null;
        var cert = CheckpointCertificate.TryRead(ref r, n);
        return cert is not null && r.TryExpectEnd() ? cert : null;
    }

    public static byte[] EncodeSnapshot(CheckpointCertificate certificate, in Hash256 appDigest, ReadOnlySpan<byte> clientTable, ReadOnlySpan<byte> appSnapshot)
    {
        var buffer = new byte[1 + certificate.EncodedLength + Hash256.Size + 20 + clientTable.Length + appSnapshot.Length];
        var w = new SpanWriter(buffer);
        w.WriteByte((byte)MessageType.StateSnapshot);
        certificate.Write(ref w);
        w.WriteHash(appDigest);
        w.WriteBlob(clientTable);
        w.WriteBlob(appSnapshot);
        return w.WrittenSpan.ToArray();
    }

    public ref struct Snapshot
    {
        public CheckpointCertificate Certificate;
        public Hash256 AppDigest;
        public ReadOnlySpan<byte> ClientTable;
        public ReadOnlySpan<byte> AppSnapshot;
    }

    public static bool TryDecodeSnapshot(ReadOnlySpan<byte> message, int n, int snapshotBytesMax, out Snapshot snapshot)
    {
        snapshot = default;
        var r = new SpanReader(message);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.StateSnapshot) return false;
        var cert = CheckpointCertificate.TryRead(ref r, n);
        if (cert is null || !r.TryReadHash(out var appDigest)) return false;
        if (!r.TryReadBlob(snapshotBytesMax, out var table) || !r.TryReadBlob(snapshotBytesMax, out var app) || !r.TryExpectEnd()) return false;
        snapshot = new Snapshot { Certificate = cert, AppDigest = appDigest, ClientTable = table, AppSnapshot = app };
        return true;
    }

    /// <summary>The checkpoint digest every replica signs.</summary>
    public static Hash256 CheckpointDigest(ulong sequence, in Hash256 appDigest, in Hash256 clientTableDigest)
    {
        Span<byte> preimage = stackalloc byte[3 + 8 + 2 * Hash256.Size];
        Hashing.WritePrefix(preimage, HashDomain.CheckpointHead);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(preimage[3..], sequence);
        appDigest.WriteTo(preimage[11..]);
        clientTableDigest.WriteTo(preimage[43..]);
        return Hashing.Sha256(preimage);
    }
}
