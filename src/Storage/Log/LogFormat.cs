using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Chainspace.Storage.Log;

/// <summary>
/// The on-media layout of log segments and records (all integers little-endian).
/// <code>
/// Segment header (64 B): magic "CSLOGSEG" ‖ u8 version (1 fresh, 2 recycled) ‖ u8 checksum algorithm (1 = XXH3-64)
///                        ‖ u16 header size ‖ u32 segment size ‖ u64 segment id ‖ u64 log id
///                        ‖ i64 previous segment id (version 2; zero in version 1) ‖ 16 zero bytes ‖ u64 XXH3(bytes 0..56)
/// Record (32 B header):  u64 checksum ‖ u32 payload length ‖ u8 type ‖ 3 zero bytes ‖ u64 sequence
///                        ‖ u64 vouch ‖ payload ‖ zero padding to a multiple of 8
/// </code>
/// The record checksum is XXH3-64 over everything after it (header fields, payload and padding), seeded
/// with the record's LSN, so a record copied to another place does not verify there. <c>vouch</c> is
/// the log's durable LSN when the record was appended: every byte before it had been flushed, so a
/// damaged record below a later record's vouch is acknowledged data (corruption), never a torn write.
/// <para>
/// A fresh segment (version 1) reads as zero after its last record. A recycled one (version 2: the file of a
/// retired segment, given a new header) holds bytes from its previous use there; none of its old records
/// verifies, because its new id gives every position a new LSN, and ids only grow. A version 1 reader refuses a
/// version 2 segment rather than mistake those bytes for a torn tail.
/// </para>
/// </summary>
public static class LogFormat
{
    public const int SegmentHeaderSize = 64;
    public const int RecordHeaderSize = 32;
    public const int Alignment = 8;
    public const byte Version = 1;
    public const byte VersionRecycled = 2;
    public const byte ChecksumXxHash3 = 1;
    public const ulong SegmentMagic = 0x474553474F4C5343;   // the bytes "CSLOGSEG"
    public const int MinSegmentSize = 4096;
    public const int MaxSegmentSize = 1 << 30;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RecordSize(int payloadLength) => RecordHeaderSize + ((payloadLength + (Alignment - 1)) & ~(Alignment - 1));

    /// <summary>The largest payload a segment of <paramref name="segmentSize"/> bytes holds.</summary>
    public static int MaxPayload(int segmentSize) => segmentSize - SegmentHeaderSize - RecordHeaderSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteRecord(Span<byte> destination, byte type, ulong sequence, long vouch, ReadOnlySpan<byte> payload, long lsn) =>
        WriteRecord(destination, type, sequence, vouch, payload, default, lsn);

    /// <summary>The record whose payload is <paramref name="head"/> ‖ <paramref name="tail"/>: the same bytes as one payload.</summary>
    public static void WriteRecord(Span<byte> destination, byte type, ulong sequence, long vouch, ReadOnlySpan<byte> head,
        ReadOnlySpan<byte> tail, long lsn)
    {
        // The destination is exactly RecordSize(head.Length + tail.Length) bytes of the mapped segment.
        int length = head.Length + tail.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], type);   // type and three zero bytes
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], vouch);
        head.CopyTo(destination[RecordHeaderSize..]);
        tail.CopyTo(destination[(RecordHeaderSize + head.Length)..]);
        destination[(RecordHeaderSize + length)..].Clear();
        ulong checksum = XxHash3.HashToUInt64(destination[8..], lsn);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, checksum);
    }

    /// <summary>
    /// Checks the record at <paramref name="offset"/> of a segment's bytes. <see cref="RecordStatus.Empty"/>
    /// means the header is all zero (nothing was written there).
    /// </summary>
    public static RecordStatus Check(ReadOnlySpan<byte> segment, int offset, long lsn, out RecordInfo record)
    {
        record = default;
        if (offset < 0 || offset > segment.Length - RecordHeaderSize) return RecordStatus.NoRoom;
        var header = segment.Slice(offset, RecordHeaderSize);
        if (!header.ContainsAnyExcept((byte)0)) return RecordStatus.Empty;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        byte type = header[12];
        if (type == 0) return RecordStatus.BadType;
        if (header[13] != 0 || header[14] != 0 || header[15] != 0) return RecordStatus.BadReserved;
        if (length > (uint)(segment.Length - offset - RecordHeaderSize)) return RecordStatus.BadLength;
        int size = RecordSize((int)length);
        if (size > segment.Length - offset) return RecordStatus.BadLength;
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(header);
        ulong computed = XxHash3.HashToUInt64(segment.Slice(offset + 8, size - 8), lsn);
        if (stored != computed) return RecordStatus.BadChecksum;
        record = new RecordInfo(
            type,
            (int)length,
            size,
            BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(header[24..]));
        return RecordStatus.Valid;
    }

    /// <summary>Reads a header the log wrote itself (no checksum): for readers of records already recovered.</summary>
    public static RecordInfo ReadTrusted(ReadOnlySpan<byte> header)
    {
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        return new RecordInfo(
            header[12],
            (int)length,
            RecordSize((int)length),
            BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(header[24..]));
    }

    /// <summary>Writes a segment header; <paramref name="previousId"/> ≥ 0 marks it recycled from that segment's file.</summary>
    public static void WriteSegmentHeader(Span<byte> destination, long segmentId, int segmentSize, ulong logId, long previousId = -1)
    {
        var header = destination[..SegmentHeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header, SegmentMagic);
        header[8] = previousId >= 0 ? VersionRecycled : Version;
        if (previousId >= 0) BinaryPrimitives.WriteInt64LittleEndian(header[32..], previousId);
        header[9] = ChecksumXxHash3;
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], SegmentHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)segmentSize);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], segmentId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], logId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[56..], XxHash3.HashToUInt64(header[..56]));
    }

    /// <summary>Checks a segment header; returns null when it is good, or what is wrong with it.</summary>
    public static string? CheckSegmentHeader(ReadOnlySpan<byte> header, long expectedId, int expectedSize, out ulong logId) =>
        CheckSegmentHeader(header, expectedId, expectedSize, out logId, out _);

    /// <summary>As above; <paramref name="previousId"/> is the segment whose file was recycled, or -1 for a fresh segment.</summary>
    public static string? CheckSegmentHeader(ReadOnlySpan<byte> header, long expectedId, int expectedSize, out ulong logId, out long previousId)
    {
        logId = 0;
        previousId = -1;
        if (header.Length < SegmentHeaderSize) return "segment shorter than its header";
        if (!header[..SegmentHeaderSize].ContainsAnyExcept((byte)0)) return "segment header is all zero";
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[56..]) != XxHash3.HashToUInt64(header[..56])) return "segment header checksum mismatch";
        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != SegmentMagic) return "not a log segment (bad magic)";
        if (header[8] != Version && header[8] != VersionRecycled) return $"unknown segment format version {header[8]}";
        if (header[9] != ChecksumXxHash3) return $"unknown checksum algorithm {header[9]}";
        if (BinaryPrimitives.ReadUInt16LittleEndian(header[10..]) != SegmentHeaderSize) return "unexpected segment header size";
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (size != (uint)expectedSize) return $"segment size is {size}, the log is configured with {expectedSize}";
        long id = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (id != expectedId) return $"header names segment {id}, the file is segment {expectedId}";
        long previous = BinaryPrimitives.ReadInt64LittleEndian(header[32..]);
        if (header[8] == Version && previous != 0) return "fresh segment header with a previous segment id";
        if (header[8] == VersionRecycled && (previous < 0 || previous >= id)) return $"recycled segment header names previous segment {previous}, not below {id}";
        if (header[40..56].ContainsAnyExcept((byte)0)) return "segment header's reserved bytes are not zero";
        logId = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        previousId = header[8] == VersionRecycled ? previous : -1;
        return null;
    }
}
