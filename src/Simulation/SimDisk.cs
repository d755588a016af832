using System.Buffers.Binary;
using Chainspace.Core;

namespace Chainspace.Simulation;

/// <summary>
/// An in-memory log with the failure model of a real one: each record is framed as [length][checksum][payload];
/// flushed records survive a crash; unflushed ones survive only as a random prefix (the device may have
/// written some), and the first lost one may be left torn. Recovery scans frames and stops at the first
/// bad one, the way a checksummed append log does.
/// </summary>
public sealed class SimDisk : IDurableLog
{
    private readonly List<(ulong Id, byte[] Frame)> _frames = new();
    private ulong _appended;
    private ulong _durable;

    public ulong AppendedId => _appended;
    public ulong DurableId => _durable;
    public int RecordCount => _frames.Count;
    public long TornWrites { get; private set; }
    public long LostWrites { get; private set; }

    public void Append(ulong persistId, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        if (persistId <= _appended) throw new InvalidOperationException($"persist id {persistId} after {_appended}: the replica must number records in order");
        int length = head.Length + tail.Length;
        var frame = new byte[8 + length];
        head.CopyTo(frame.AsSpan(8));
        tail.CopyTo(frame.AsSpan(8 + head.Length));
        BinaryPrimitives.WriteInt32LittleEndian(frame, length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Checksum(frame.AsSpan(8)));
        _frames.Add((persistId, frame));
        _appended = persistId;
    }

    public void FlushTo(ulong persistId) => _durable = Math.Max(_durable, Math.Min(persistId, _appended));

    public void Truncate(ulong persistId)
    {
        int drop = 0;
        while (drop < _frames.Count && _frames[drop].Id < persistId && _frames[drop].Id <= _durable) drop++;
        _frames.RemoveRange(0, drop);
    }

    public void Crash(SimRandom random)
    {
        int firstUnflushed = _frames.FindIndex(f => f.Id > _durable);
        if (firstUnflushed < 0) return;
        int unflushed = _frames.Count - firstUnflushed;
        int kept = random.Next(unflushed + 1); // a prefix of the in-flight writes reached the device
        int lostFrom = firstUnflushed + kept;
        LostWrites += _frames.Count - lostFrom;
        if (lostFrom < _frames.Count && random.Chance(0.5))
        {
            // The first lost write is torn: part of its frame is on the device.
            var frame = _frames[lostFrom].Frame;
            var torn = frame.AsSpan(0, random.Next(frame.Length)).ToArray();
            _frames.RemoveRange(lostFrom, _frames.Count - lostFrom);
            _frames.Add((ulong.MaxValue, torn));
            TornWrites++;
        }
        else
        {
            _frames.RemoveRange(lostFrom, _frames.Count - lostFrom);
        }
    }

    public IReadOnlyList<byte[]> Recover()
    {
        var records = new List<byte[]>(_frames.Count);
        int valid = 0;
        foreach (var (_, frame) in _frames)
        {
            if (frame.Length < 8) break;
            int length = BinaryPrimitives.ReadInt32LittleEndian(frame);
            if (length != frame.Length - 8) break;
            var payload = frame.AsSpan(8);
            if (Checksum(payload) != BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4))) break;
            records.Add(payload.ToArray());
            valid++;
        }
        // Cut the torn tail so new appends follow the last good record.
        _frames.RemoveRange(valid, _frames.Count - valid);
        _appended = valid == 0 ? 0 : _frames[valid - 1].Id;
        _durable = _appended;
        return records;
    }

    // A truncated SHA-256: the simulator needs detection of torn frames, not speed.
    private static uint Checksum(ReadOnlySpan<byte> data) => (uint)Hashing.Sha256(data).Prefix64;
}
