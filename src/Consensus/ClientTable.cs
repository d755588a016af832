using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Consensus;

/// <summary>What the replicated client table says about a request.</summary>
internal enum RequestState : byte
{
    /// <summary>Not executed yet and inside the window: execute it.</summary>
    New,
    /// <summary>Executed already: never execute again.</summary>
    Executed,
    /// <summary>Below the window: refused (its fate is no longer remembered).</summary>
    Stale,
}

/// <summary>
/// Exactly-once bookkeeping, part of the replicated state (it goes into checkpoints and snapshots). Per
/// client: the highest request number executed and a bitmap of which of the last <c>window</c> numbers
/// executed, so a client may pipeline thousands of requests that arrive in any order; plus the latest
/// reply. Numbers at or below <c>highest - window</c> are stale.
/// </summary>
internal sealed class ClientTable
{
    internal sealed class Record
    {
        public ulong Highest;
        public bool Any;
        public readonly ulong[] Bits;
        public ulong LastRequest;
        public ReplyStatus LastStatus;
        public byte[] LastReply = [];
        public int LastReplyLength;

        public Record(int words) => Bits = new ulong[words];
    }

    private readonly int _window;
    private readonly Dictionary<ulong, Record> _records = new();
    // Ids in ascending order, so the snapshot encoding is canonical without sorting at checkpoint time.
    private readonly List<ulong> _ids = new();

    public ClientTable(int window)
    {
        Invariant.Check(window >= 64 && window % 64 == 0);
        _window = window;
    }

    public int Count => _records.Count;

    public RequestState Check(ulong client, ulong request)
    {
        if (!_records.TryGetValue(client, out var rec) || !rec.Any) return RequestState.New;
        if (request > rec.Highest) return RequestState.New;
        if (rec.Highest >= (ulong)_window && request <= rec.Highest - (ulong)_window) return RequestState.Stale;
        ulong bit = request % (ulong)_window;
        return (rec.Bits[bit >> 6] & (1UL << (int)(bit & 63))) != 0 ? RequestState.Executed : RequestState.New;
    }

    public bool TryGetLastReply(ulong client, ulong request, out ReplyStatus status, out ReadOnlySpan<byte> reply)
    {
        status = default;
        reply = default;
        if (!_records.TryGetValue(client, out var rec) || !rec.Any || rec.LastRequest != request) return false;
        status = rec.LastStatus;
        reply = rec.LastReply.AsSpan(0, rec.LastReplyLength);
        return true;
    }

    public void MarkExecuted(ulong client, ulong request, ReplyStatus status, ReadOnlySpan<byte> reply)
    {
        var rec = GetOrAdd(client);
        if (!rec.Any || request > rec.Highest)
        {
            ulong from = rec.Any ? rec.Highest + 1 : 0;
            if (!rec.Any || request - rec.Highest >= (ulong)_window) Array.Clear(rec.Bits);
            else for (ulong r = from; r < request; r++) ClearBit(rec, r);
            rec.Highest = request;
            rec.Any = true;
        }
        ulong bit = request % (ulong)_window;
        rec.Bits[bit >> 6] |= 1UL << (int)(bit & 63);
        rec.LastRequest = request;
        rec.LastStatus = status;
        if (rec.LastReply.Length < reply.Length) rec.LastReply = new byte[Math.Max(reply.Length, 16)];
        reply.CopyTo(rec.LastReply);
        rec.LastReplyLength = reply.Length;
    }

    private void ClearBit(Record rec, ulong request)
    {
        ulong bit = request % (ulong)_window;
        rec.Bits[bit >> 6] &= ~(1UL << (int)(bit & 63));
    }

    private Record GetOrAdd(ulong client)
    {
        if (_records.TryGetValue(client, out var rec)) return rec;
        rec = new Record(_window / 64);
        _records.Add(client, rec);
        int at = _ids.BinarySearch(client);
        _ids.Insert(~at, client);
        return rec;
    }

    // ---- canonical encoding: [window][count] then per client (ascending id):
    //      [id u64][highest u64][any u8][bits][lastRequest u64][lastStatus u8][lastReply blob] ----

    public void Write(IBufferWriter<byte> destination)
    {
        var head = destination.GetSpan(8);
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)_window);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)_ids.Count);
        destination.Advance(8);
        foreach (ulong id in _ids)
        {
            var rec = _records[id];
            int size = 8 + 8 + 1 + _window / 8 + 8 + 1 + 10 + rec.LastReplyLength;
            var w = new SpanWriter(destination.GetSpan(size));
            w.WriteUInt64LittleEndian(id);
            w.WriteUInt64LittleEndian(rec.Highest);
            w.WriteByte(rec.Any ? (byte)1 : (byte)0);
            foreach (ulong word in rec.Bits) w.WriteUInt64LittleEndian(word);
            w.WriteUInt64LittleEndian(rec.LastRequest);
            w.WriteByte((byte)rec.LastStatus);
            w.WriteBlob(rec.LastReply.AsSpan(0, rec.LastReplyLength));
            destination.Advance(w.Written);
        }
    }

    public static Hash256 Digest(ReadOnlySpan<byte> encoded) => Hashing.Sha256(encoded);

    /// <summary>Parses a table received in a state transfer; null if malformed or for another window.</summary>
    public static ClientTable? TryRead(ReadOnlySpan<byte> encoded, int window, int replyBytesMax)
    {
        var r = new SpanReader(encoded);
        if (!r.TryReadBytes(8, out var head)) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != (uint)window) return null;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        int recordMin = 8 + 8 + 1 + window / 8 + 8 + 1 + 1;
        if ((ulong)count * (ulong)recordMin > (ulong)r.Remaining) return null;
        var table = new ClientTable(window);
        ulong previous = 0;
        for (uint i = 0; i < count; i++)
        {
            if (!r.TryReadUInt64LittleEndian(out ulong id) || (i > 0 && id <= previous)) return null;
            previous = id;
            var rec = new Record(window / 64);
            if (!r.TryReadUInt64LittleEndian(out rec.Highest) || !r.TryReadByte(out byte any) || any > 1) return null;
            rec.Any = any == 1;
            for (int b = 0; b < rec.Bits.Length; b++)
            {
                if (!r.TryReadUInt64LittleEndian(out rec.Bits[b])) return null;
            }
            if (!r.TryReadUInt64LittleEndian(out rec.LastRequest) || !r.TryReadByte(out byte status) || status > (byte)ReplyStatus.Stale) return null;
            rec.LastStatus = (ReplyStatus)status;
            if (!r.TryReadBlob(replyBytesMax, out var reply)) return null;
            rec.LastReply = reply.ToArray();
            rec.LastReplyLength = reply.Length;
            table._records.Add(id, rec);
            table._ids.Add(id);
        }
        return r.TryExpectEnd() ? table : null;
    }
}
