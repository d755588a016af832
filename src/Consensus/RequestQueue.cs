using Chainspace.Core;

namespace Chainspace.Consensus;

/// <summary>(client, request number): the identity of a request.</summary>
internal readonly record struct RequestKey(ulong Client, ulong Number);

/// <summary>
/// Requests received but not yet in a batch (at the primary) or not yet executed (at a backup, where the
/// oldest entry drives the view-change timer: one FIFO is a timer per pending request, checked in O(1)).
/// Operations are copied into one append-only byte buffer that is compacted when it fills: no allocation
/// per request once warmed up, and a fixed bound on entries.
/// </summary>
internal sealed class RequestQueue
{
    internal struct Entry
    {
        public ulong Client;
        public ulong Number;
        public long ArrivalTick;
        public int Offset;
        public int Length;
    }

    private readonly Entry[] _ring;
    private readonly HashSet<RequestKey> _keys;
    private byte[] _bytes = new byte[64 * 1024];
    private int _head;
    private int _count;
    private int _used;

    public RequestQueue(int capacity)
    {
        _ring = new Entry[capacity];
        _keys = new HashSet<RequestKey>(capacity);
    }

    public int Count => _count;
    public bool Contains(ulong client, ulong number) => _keys.Contains(new RequestKey(client, number));
    public ref Entry Peek() => ref _ring[_head];
    public ReadOnlySpan<byte> Operation(in Entry e) => _bytes.AsSpan(e.Offset, e.Length);

    public bool TryEnqueue(ulong client, ulong number, ReadOnlySpan<byte> operation, long now)
    {
        if (_count == _ring.Length) return false;
        if (!_keys.Add(new RequestKey(client, number))) return false;
        EnsureRoom(operation.Length);
        operation.CopyTo(_bytes.AsSpan(_used));
        int tail = (_head + _count) % _ring.Length;
        _ring[tail] = new Entry { Client = client, Number = number, ArrivalTick = now, Offset = _used, Length = operation.Length };
        _used += operation.Length;
        _count++;
        return true;
    }

    /// <summary>Removes the head. Its operation bytes stay readable until the next enqueue.</summary>
    public void Dequeue()
    {
        Invariant.Check(_count > 0);
        ref var e = ref _ring[_head];
        _keys.Remove(new RequestKey(e.Client, e.Number));
        _head = (_head + 1) % _ring.Length;
        _count--;
        if (_count == 0) _used = 0;
    }

    public void Clear()
    {
        _keys.Clear();
        _head = 0;
        _count = 0;
        _used = 0;
    }

    private void EnsureRoom(int length)
    {
        if (_used + length <= _bytes.Length) return;
        // Compact: entries are in offset order, so moving each down in turn never overwrites a live one.
        int to = 0;
        for (int i = 0; i < _count; i++)
        {
            ref var e = ref _ring[(_head + i) % _ring.Length];
            _bytes.AsSpan(e.Offset, e.Length).CopyTo(_bytes.AsSpan(to));
            e.Offset = to;
            to += e.Length;
        }
        _used = to;
        if (_used + length > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + length));
    }
}
