using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;

namespace Chainspace.Node.Protocol;

public enum QueryKind : byte
{
    /// <summary>The state of one object in the replica's shard: argument the object id.</summary>
    ObjectState = 1,
    /// <summary>The replica's counters (<see cref="NodeStats"/>).</summary>
    Stats = 2,
}

/// <summary>A replica's counters as a <see cref="QueryKind.Stats"/> query returns them.</summary>
public readonly record struct NodeStats(
    ulong View, bool ViewActive, bool IsPrimary, ulong LastExecuted, ulong StableSequence, Hash256 StableDigest,
    long Committed, long Aborted, long Batches, long Requests, long ViewChanges, long LogFlushes,
    long AllocatedBytes, long CpuMilliseconds, long QueueDepth, long RejectedFrames)
{
    public const int Size = 8 * 3 + 32 + 8 * 10 + 2;

    public void WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, View);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], LastExecuted);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], StableSequence);
        StableDigest.WriteTo(d[24..]);
        int o = 56;
        foreach (long v in (ReadOnlySpan<long>)[Committed, Aborted, Batches, Requests, ViewChanges, LogFlushes, AllocatedBytes, CpuMilliseconds, QueueDepth, RejectedFrames])
        {
            BinaryPrimitives.WriteInt64LittleEndian(d[o..], v);
            o += 8;
        }
        d[o] = ViewActive ? (byte)1 : (byte)0;
        d[o + 1] = IsPrimary ? (byte)1 : (byte)0;
    }

    public static bool TryRead(ReadOnlySpan<byte> s, out NodeStats stats)
    {
        stats = default;
        if (s.Length != Size || s[Size - 2] > 1 || s[Size - 1] > 1) return false;
        Span<long> v = stackalloc long[10];
        for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(s[(56 + 8 * i)..]);
        stats = new NodeStats(
            BinaryPrimitives.ReadUInt64LittleEndian(s), s[Size - 2] == 1, s[Size - 1] == 1,
            BinaryPrimitives.ReadUInt64LittleEndian(s[8..]), BinaryPrimitives.ReadUInt64LittleEndian(s[16..]), new Hash256(s.Slice(24, 32)),
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
        return true;
    }
}

/// <summary>Encoders and decoders of the small node ↔ client messages (all fixed layouts, little-endian).</summary>
public static class ClientMessages
{
    public const int HelloSize = 8;
    public const int DecisionSize = Hash256.Size + 1;
    public const int QuerySizeMax = 8 + 1 + Hash256.Size;
    public const int QueryResultSizeMax = 8 + 2 + NodeStats.Size;

    /// <summary>Hello with flags: u64 client ‖ u8 flags. The 8-byte form means no flags.</summary>
    public const int HelloWithFlagsSize = HelloSize + 1;

    /// <summary>Hello flag: send this client the signed votes on its transactions (<see cref="FrameType.ReceiptVotes"/>).</summary>
    public const byte HelloWantsReceipts = 1;

    public static int WriteHello(Span<byte> d, ulong client, byte flags = 0)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, client);
        if (flags == 0) return HelloSize;
        d[HelloSize] = flags;
        return HelloWithFlagsSize;
    }

    public static bool TryReadHello(ReadOnlySpan<byte> s, out ulong client, out byte flags)
    {
        client = 0;
        flags = 0;
        if (s.Length is not (HelloSize or HelloWithFlagsSize)) return false;
        client = BinaryPrimitives.ReadUInt64LittleEndian(s);
        if (s.Length == HelloWithFlagsSize) flags = s[HelloSize];
        return (flags & ~HelloWantsReceipts) == 0;   // unknown flags: refuse rather than guess
    }

    public static void WriteDecision(Span<byte> d, in Hash256 txId, Decision decision)
    {
        txId.WriteTo(d);
        d[Hash256.Size] = (byte)decision;
    }

    public static bool TryReadDecision(ReadOnlySpan<byte> s, out Hash256 txId, out Decision decision)
    {
        txId = default;
        decision = default;
        if (s.Length != DecisionSize || !DecisionExtensions.IsDefined(s[Hash256.Size])) return false;
        txId = new Hash256(s[..Hash256.Size]);
        decision = (Decision)s[Hash256.Size];
        return true;
    }

    /// <summary>Query := u64 queryId ‖ u8 kind ‖ (objectId for <see cref="QueryKind.ObjectState"/>).</summary>
    public static int WriteQuery(Span<byte> d, ulong queryId, QueryKind kind, in Hash256 objectId = default)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, queryId);
        d[8] = (byte)kind;
        if (kind != QueryKind.ObjectState) return 9;
        objectId.WriteTo(d[9..]);
        return 9 + Hash256.Size;
    }

    public static bool TryReadQuery(ReadOnlySpan<byte> s, out ulong queryId, out QueryKind kind, out Hash256 objectId)
    {
        queryId = 0;
        kind = default;
        objectId = default;
        if (s.Length < 9) return false;
        queryId = BinaryPrimitives.ReadUInt64LittleEndian(s);
        kind = (QueryKind)s[8];
        switch (kind)
        {
            case QueryKind.ObjectState when s.Length == 9 + Hash256.Size:
                objectId = new Hash256(s.Slice(9, Hash256.Size));
                return true;
            case QueryKind.Stats when s.Length == 9:
                return true;
            default:
                return false;
        }
    }

    /// <summary>QueryResult := u64 queryId ‖ u8 kind ‖ u8 ok ‖ (u8 object state | stats).</summary>
    public static int WriteObjectStateResult(Span<byte> d, ulong queryId, ObjectState state)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, queryId);
        d[8] = (byte)QueryKind.ObjectState;
        d[9] = 1;
        d[10] = (byte)state;
        return 11;
    }

    public static int WriteStatsResult(Span<byte> d, ulong queryId, in NodeStats stats)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, queryId);
        d[8] = (byte)QueryKind.Stats;
        d[9] = 1;
        stats.WriteTo(d[10..]);
        return 10 + NodeStats.Size;
    }

    /// <summary>A query the replica could not answer (malformed): ok = 0, nothing else.</summary>
    public static int WriteQueryError(Span<byte> d, ulong queryId, QueryKind kind)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(d, queryId);
        d[8] = (byte)kind;
        d[9] = 0;
        return 10;
    }

    public static bool TryReadQueryResult(ReadOnlySpan<byte> s, out ulong queryId, out QueryKind kind, out bool ok, out ReadOnlySpan<byte> result)
    {
        queryId = 0;
        kind = default;
        ok = false;
        result = default;
        if (s.Length < 10 || s[9] > 1) return false;
        queryId = BinaryPrimitives.ReadUInt64LittleEndian(s);
        kind = (QueryKind)s[8];
        ok = s[9] == 1;
        result = s[10..];
        return true;
    }
}
