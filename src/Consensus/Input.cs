namespace Chainspace.Consensus;

public enum InputKind : byte
{
    /// <summary>A message from replica <see cref="Input.From"/> of this shard (the transport authenticated the sender).</summary>
    Message,
    /// <summary>An encoded request from a client connection (<see cref="Wire.WriteRequest"/>).</summary>
    ClientRequest,
    /// <summary>One unit of logical time passed.</summary>
    Tick,
    /// <summary>Every record up to and including <see cref="Input.PersistId"/> is durable.</summary>
    PersistCompleted,
}

/// <summary>
/// One input to <see cref="Replica.Step"/>. The payload is borrowed: the replica copies what it keeps,
/// and the caller may reuse the buffer as soon as Step returns.
/// </summary>
public readonly ref struct Input
{
    public readonly InputKind Kind;
    public readonly int From;
    public readonly ReadOnlySpan<byte> Payload;
    public readonly ulong PersistId;

    private Input(InputKind kind, int from, ReadOnlySpan<byte> payload, ulong persistId)
    {
        Kind = kind;
        From = from;
        Payload = payload;
        PersistId = persistId;
    }

    public static Input Message(int from, ReadOnlySpan<byte> payload) => new(InputKind.Message, from, payload, 0);
    public static Input ClientRequest(ReadOnlySpan<byte> payload) => new(InputKind.ClientRequest, -1, payload, 0);
    public static Input Tick() => new(InputKind.Tick, -1, default, 0);
    public static Input PersistCompleted(ulong persistId) => new(InputKind.PersistCompleted, -1, default, persistId);
}
