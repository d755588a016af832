using Chainspace.Core;

namespace Chainspace.Consensus;

public enum OutputKind : byte
{
    /// <summary>Send the payload to replica <see cref="Output.To"/> now.</summary>
    Send,
    /// <summary>Send the payload to every other replica of the shard now.</summary>
    Broadcast,
    /// <summary>Send to <see cref="Output.To"/> only once record <see cref="Output.PersistId"/> is durable:
    /// the message vouches for state that must survive a crash. Drop it if the replica crashes first.</summary>
    SendAfterPersist,
    /// <summary>Broadcast once record <see cref="Output.PersistId"/> is durable.</summary>
    BroadcastAfterPersist,
    /// <summary>Append the payload, followed by the entry's <see cref="Outbox.Tail"/> (usually empty), to the log as
    /// record <see cref="Output.PersistId"/> (ids increase by one in output order); answer with
    /// <see cref="Input.PersistCompleted"/> once it and all before it are durable.</summary>
    Persist,
    /// <summary>Records with ids below <see cref="Output.PersistId"/> are no longer needed for recovery.</summary>
    TruncateLog,
    /// <summary>Send the payload (an encoded <see cref="MessageType.Reply"/>) to client <see cref="Output.Client"/>;
    /// <see cref="Output.Number"/> is the request number.</summary>
    Reply,
    /// <summary>Informational: batch <see cref="Output.Number"/> with <see cref="Output.Digest"/> was executed
    /// (<see cref="Output.To"/> requests executed from it).</summary>
    Delivered,
    /// <summary>Informational: checkpoint <see cref="Output.Number"/> with state digest <see cref="Output.Digest"/> is stable.</summary>
    CheckpointStable,
    /// <summary>Informational: view <see cref="Output.Number"/> is now active at this replica.</summary>
    ViewInstalled,
    /// <summary>Informational: state was restored from a snapshot at sequence <see cref="Output.Number"/>.</summary>
    StateTransferred,
    /// <summary>
    /// Like <see cref="Persist"/>, but no message and no step waits for this record: a driver may leave it to the next
    /// flush that something does wait for, rather than flush for it alone (treating it as <see cref="Persist"/> is also
    /// correct). Losing it in a crash must be the same as crashing just before it was written.
    /// </summary>
    PersistLazy,
}

/// <summary>One output. The payload (if any) lives in the outbox's arena: read it with <see cref="Outbox.Payload"/>;
/// a Persist record may go on past it into a tail the replica owns (<see cref="Outbox.Tail"/>).</summary>
public readonly struct Output
{
    public readonly OutputKind Kind;
    public readonly int To;
    public readonly ulong PersistId;
    public readonly ulong Client;
    public readonly ulong Number;
    public readonly Hash256 Digest;
    internal readonly int Offset;
    internal readonly int Length;
    internal readonly ReadOnlyMemory<byte> TailBytes;

    internal Output(OutputKind kind, int to, ulong persistId, ulong client, ulong number, in Hash256 digest, int offset, int length,
        ReadOnlyMemory<byte> tail = default)
    {
        TailBytes = tail;
        Kind = kind;
        To = to;
        PersistId = persistId;
        Client = client;
        Number = number;
        Digest = digest;
        Offset = offset;
        Length = length;
    }
}

/// <summary>
/// What a <see cref="Replica.Step"/> asks its driver to do, as data (etcd raft's <c>Ready</c>). One reusable
/// outbox per replica: the driver reads <see cref="Count"/> entries in order, handles each (in order: a
/// Persist comes before the SendAfterPersist that waits on it), then calls <see cref="Clear"/>. Payloads are
/// copied into one growing arena, so steady-state operation allocates nothing.
/// </summary>
public sealed class Outbox
{
    private Output[] _items = new Output[64];
    private byte[] _arena = new byte[64 * 1024];
    private int _count;
    private int _used;
    private int _reserved = -1;

    public int Count => _count;
    public ref readonly Output this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
            return ref _items[index];
        }
    }

    public ReadOnlySpan<byte> Payload(in Output output) => _arena.AsSpan(output.Offset, output.Length);

    /// <summary>
    /// The rest of a Persist record after its <see cref="Payload"/>: empty except for a stable checkpoint's snapshot
    /// pieces, whose bytes stay in the replica's own snapshot buffer instead of being copied into the arena (a
    /// snapshot is the whole state: the copy, and the arena growing to hold it, were a third of a checkpoint's cost).
    /// Valid, like the payload, until <see cref="Clear"/>.
    /// </summary>
    public ReadOnlySpan<byte> Tail(in Output output) => output.TailBytes.Span;

    /// <summary>The whole record of a Persist entry, payload and tail, in a new array (for drivers that keep records as arrays).</summary>
    public byte[] PersistRecord(in Output output)
    {
        var payload = Payload(output);
        var tail = Tail(output);
        var record = new byte[payload.Length + tail.Length];
        payload.CopyTo(record);
        tail.CopyTo(record.AsSpan(payload.Length));
        return record;
    }

    /// <summary>How many times <see cref="Clear"/> ran: a tail's owner may reuse its bytes once this has moved on.</summary>
    public ulong ClearCount { get; private set; }

    public void Clear()
    {
        ClearCount++;
        _count = 0;
        _used = 0;
        _reserved = -1;
    }

    /// <summary>A writable region of at least <paramref name="length"/> bytes for the next entry's payload.</summary>
    internal Span<byte> Reserve(int length)
    {
        Invariant.Check(_reserved < 0);
        if (_used + length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + length));
        }
        _reserved = _used;
        return _arena.AsSpan(_used, length);
    }

    /// <summary>Adds an entry whose payload is the first <paramref name="length"/> bytes of the last reservation.</summary>
    internal void Commit(OutputKind kind, int to, ulong persistId, ulong client, ulong number, in Hash256 digest, int length)
    {
        Invariant.Check(_reserved == _used);
        AddEntry(new Output(kind, to, persistId, client, number, digest, _used, length));
        _used += length;
        _reserved = -1;
    }

    /// <summary>Commits a Persist entry whose record is the last reservation's first <paramref name="length"/> bytes followed
    /// by <paramref name="tail"/>, which the caller must leave unchanged until <see cref="Clear"/>.</summary>
    internal void CommitPersist(ulong persistId, int length, ReadOnlyMemory<byte> tail)
    {
        Invariant.Check(_reserved == _used);
        AddEntry(new Output(OutputKind.Persist, -1, persistId, 0, 0, Hash256.Zero, _used, length, tail));
        _used += length;
        _reserved = -1;
    }

    internal void Add(OutputKind kind, int to, ulong persistId, ulong client, ulong number, in Hash256 digest)
    {
        Invariant.Check(_reserved < 0);
        AddEntry(new Output(kind, to, persistId, client, number, digest, _used, 0));
    }

    internal void AddCopy(OutputKind kind, int to, ulong persistId, ReadOnlySpan<byte> payload)
    {
        var span = Reserve(payload.Length);
        payload.CopyTo(span);
        Commit(kind, to, persistId, 0, 0, Hash256.Zero, payload.Length);
    }

    private void AddEntry(in Output output)
    {
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count++] = output;
    }
}
