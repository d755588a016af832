using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>Kinds of durable records a replica writes. Values are part of the log format: never renumber.</summary>
internal enum RecordKind : byte
{
    /// <summary>A pre-prepare accepted (or, at the primary, issued), with its body if known.</summary>
    PrePrepare = 1,
    /// <summary>A prepared certificate, written before the commit that vouches for it.</summary>
    Prepared = 2,
    /// <summary>A batch committed locally (lets a restarted replica re-execute it).</summary>
    Committed = 3,
    /// <summary>Our checkpoint digest, written before the checkpoint message is sent.</summary>
    CheckpointVote = 4,
    /// <summary>We left for this view; written before the VIEW-CHANGE is sent.</summary>
    ViewChange = 5,
    /// <summary>The NEW-VIEW that started a view here.</summary>
    NewView = 6,
    /// <summary>A stable checkpoint: proof, view, and (if we hold it) the snapshot, inline (old logs) or as the
    /// <see cref="SnapshotChunk"/> records written just before it.</summary>
    Stable = 7,
    /// <summary>One piece of a stable checkpoint's application snapshot. A snapshot grows with the state, so it
    /// is cut into pieces that each fit a log record, however small the driver's segments are.</summary>
    SnapshotChunk = 8,
}

/// <summary>How a <see cref="RecordKind.Stable"/> record holds the snapshot. Part of the log format.</summary>
internal enum StableSnapshotForm : byte
{
    None = 0,
    /// <summary>The snapshot as one blob in the record (written by earlier versions; still read).</summary>
    Inline = 1,
    /// <summary>The snapshot's length and piece count; the pieces precede the record.</summary>
    Chunked = 2,
}

/// <summary>
/// Record encodings: [kind][persist id] then the fields. The driver stores records as opaque bytes (its log
/// adds checksums and detects torn tails) and hands the surviving ones back to <see cref="Replica.Recover"/>.
/// </summary>
internal static class Records
{
    private const int Header = 1 + 10;
    public const int CommittedLengthMax = Header + 20 + Hash256.Size;
    public const int CheckpointVoteLengthMax = Header + 10 + Hash256.Size;
    public const int ViewChangeLengthMax = Header + 10;

    public static int PrePrepareLengthMax(int bodyLength) => Header + 20 + Hash256.Size + IReplicaSigner.SignatureSize + 1 + 10 + bodyLength;
    public static int NewViewLengthMax(int messageLength) => Header + 20 + messageLength;

    public static int WritePrePrepare(Span<byte> destination, ulong id, Slot slot)
    {
        var w = Begin(destination, RecordKind.PrePrepare, id);
        w.WriteVarUInt64(slot.View);
        w.WriteVarUInt64(slot.Sequence);
        w.WriteHash(slot.Digest);
        w.WriteBytes(slot.PrePrepareSignature);
        w.WriteByte(slot.HasBody ? (byte)1 : (byte)0);
        if (slot.HasBody) w.WriteBlob(slot.BodySpan);
        return w.Written;
    }

    public static int WritePrepared(Span<byte> destination, ulong id, Slot slot)
    {
        var w = Begin(destination, RecordKind.Prepared, id);
        slot.WriteCertificate(ref w);
        return w.Written;
    }

    public static int WriteCommitted(Span<byte> destination, ulong id, ulong view, ulong seq, in Hash256 digest)
    {
        var w = Begin(destination, RecordKind.Committed, id);
        w.WriteVarUInt64(view);
        w.WriteVarUInt64(seq);
        w.WriteHash(digest);
        return w.Written;
    }

    public static int WriteCheckpointVote(Span<byte> destination, ulong id, ulong seq, in Hash256 digest)
    {
        var w = Begin(destination, RecordKind.CheckpointVote, id);
        w.WriteVarUInt64(seq);
        w.WriteHash(digest);
        return w.Written;
    }

    public static int WriteViewChange(Span<byte> destination, ulong id, ulong view)
    {
        var w = Begin(destination, RecordKind.ViewChange, id);
        w.WriteVarUInt64(view);
        return w.Written;
    }

    public static int WriteNewView(Span<byte> destination, ulong id, ulong view, ReadOnlySpan<byte> message)
    {
        var w = Begin(destination, RecordKind.NewView, id);
        w.WriteVarUInt64(view);
        w.WriteBlob(message);
        return w.Written;
    }

    public static int StableLengthMax(CheckpointCertificate cert, int tableLength) =>
        Header + 10 + 1 + cert.EncodedLength + 1 + Hash256.Size + 10 + tableLength + 20;

    /// <summary>A stable checkpoint; with a snapshot, <paramref name="appLength"/> bytes in <paramref name="chunks"/>
    /// <see cref="RecordKind.SnapshotChunk"/> records written just before this one.</summary>
    public static int WriteStable(Span<byte> destination, ulong id, ulong view, bool active, CheckpointCertificate cert,
        bool hasSnapshot, in Hash256 appDigest, ReadOnlySpan<byte> table, int appLength, int chunks)
    {
        var w = Begin(destination, RecordKind.Stable, id);
        w.WriteVarUInt64(view);
        w.WriteByte(active ? (byte)1 : (byte)0);
        cert.Write(ref w);
        w.WriteByte((byte)(hasSnapshot ? StableSnapshotForm.Chunked : StableSnapshotForm.None));
        if (hasSnapshot)
        {
            w.WriteHash(appDigest);
            w.WriteBlob(table);
            w.WriteVarUInt64((ulong)appLength);
            w.WriteVarUInt64((ulong)chunks);
        }
        return w.Written;
    }

    public const int SnapshotChunkHeadLengthMax = Header + 30;

    /// <summary>Piece <paramref name="index"/> of the snapshot at <paramref name="sequence"/>, all but the piece's bytes:
    /// the record is this head followed by the piece (the blob's bytes come last), which the log appends from where it is.</summary>
    public static int WriteSnapshotChunkHead(Span<byte> destination, ulong id, ulong sequence, int index, int pieceLength)
    {
        var w = Begin(destination, RecordKind.SnapshotChunk, id);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64((ulong)index);
        w.WriteVarUInt64((ulong)pieceLength);
        return w.Written;
    }

    private static SpanWriter Begin(Span<byte> destination, RecordKind kind, ulong id)
    {
        var w = new SpanWriter(destination);
        w.WriteByte((byte)kind);
        w.WriteVarUInt64(id);
        return w;
    }
}
