using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>
/// State transfer messages. CHECKPOINT-PROOF tells a lagging replica that a checkpoint is stable;
/// STATE-SNAPSHOT carries a piece of the state at a stable checkpoint, which the receiver, once it holds every
/// piece, accepts only if it hashes
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

    /// <summary>Bytes <see cref="WriteSnapshotPiece"/> needs at most.</summary>
    public static int SnapshotPieceLengthMax(CheckpointCertificate certificate, int clientTableLength, int pieceLength) =>
        1 + certificate.EncodedLength + Hash256.Size + 40 + clientTableLength + pieceLength;

    /// <summary>
    /// STATE-SNAPSHOT := type ‖ certificate ‖ appDigest ‖ blob clientTable ‖ varint total ‖ varint offset ‖ blob piece:
    /// bytes [offset, offset + |piece|) of the <paramref name="total"/>-byte application snapshot. The client table
    /// travels with the first piece only (offset 0), empty otherwise.
    /// </summary>
    public static int WriteSnapshotPiece(Span<byte> destination, CheckpointCertificate certificate, in Hash256 appDigest,
        ReadOnlySpan<byte> clientTable, int total, int offset, ReadOnlySpan<byte> piece)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)MessageType.StateSnapshot);
        certificate.Write(ref w);
        w.WriteHash(appDigest);
        w.WriteBlob(offset == 0 ? clientTable : default);
        w.WriteVarUInt64((ulong)total);
        w.WriteVarUInt64((ulong)offset);
        w.WriteBlob(piece);
        return w.Written;
    }

    public static byte[] EncodeSnapshotPiece(CheckpointCertificate certificate, in Hash256 appDigest, ReadOnlySpan<byte> clientTable,
        int total, int offset, ReadOnlySpan<byte> piece)
    {
        var buffer = new byte[SnapshotPieceLengthMax(certificate, clientTable.Length, piece.Length)];
        return buffer.AsSpan(0, WriteSnapshotPiece(buffer, certificate, appDigest, clientTable, total, offset, piece)).ToArray();
    }

    public ref struct SnapshotPiece
    {
        public CheckpointCertificate Certificate;
        public Hash256 AppDigest;
        public ReadOnlySpan<byte> ClientTable;
        public int Total;
        public int Offset;
        public ReadOnlySpan<byte> Bytes;
    }

    /// <summary>Decodes a piece whose snapshot is at most <paramref name="snapshotBytesMax"/> and that lies inside it.</summary>
    public static bool TryDecodeSnapshotPiece(ReadOnlySpan<byte> message, int n, int snapshotBytesMax, out SnapshotPiece piece)
    {
        piece = default;
        var r = new SpanReader(message);
        if (!r.TryReadByte(out byte t) || t != (byte)MessageType.StateSnapshot) return false;
        var cert = CheckpointCertificate.TryRead(ref r, n);
        if (cert is null || !r.TryReadHash(out var appDigest) || !r.TryReadBlob(snapshotBytesMax, out var table)) return false;
        if (!r.TryReadVarUInt64(out ulong total) || !r.TryReadVarUInt64(out ulong offset) || !r.TryReadBlob(snapshotBytesMax, out var bytes)
            || !r.TryExpectEnd()) return false;
        if (total > (ulong)snapshotBytesMax || offset > total || (ulong)bytes.Length > total - offset) return false;
        if (offset != 0 && !table.IsEmpty) return false;
        if (bytes.IsEmpty && offset != total) return false; // a piece that moves nothing would stall the transfer
        piece = new SnapshotPiece
        {
            Certificate = cert, AppDigest = appDigest, ClientTable = table, Total = (int)total, Offset = (int)offset, Bytes = bytes,
        };
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
