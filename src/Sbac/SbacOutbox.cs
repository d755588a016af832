using System.Buffers;
using Chainspace.Core;

namespace Chainspace.Sbac;

public enum SbacOutputKind : byte
{
    /// <summary>A signed vote batch for every replica of <see cref="SbacOutput.Shard"/>.</summary>
    VotesToShard = 1,
    /// <summary>T was decided in this shard: tell whoever waits for it (the client, the initiator).</summary>
    Decided = 2,
    /// <summary>A signed vote batch holding the votes on <see cref="SbacOutput.Client"/>'s transactions: its receipt material.</summary>
    VotesToClient = 3,
}

public readonly record struct SbacOutput(SbacOutputKind Kind, uint Shard, Hash256 TransactionId, Decision Decision, int Offset, int Length)
{
    /// <summary>For <see cref="SbacOutputKind.VotesToClient"/>: the client the votes go to.</summary>
    public ulong Client { get; init; }
}

/// <summary>
/// What the S-BAC layer asks its driver to do, as data (STYLE.md §1): the driver drains it after each
/// consensus step and clears it. Payload bytes live in one reusable arena.
/// Vote batches are sent as soon as the batch is executed: they state what the committed, durable
/// PBFT log implies, which every replica re-derives identically after a crash, so nothing here waits
/// for a persist of its own.
/// </summary>
public sealed class SbacOutbox
{
    private readonly ArrayBufferWriter<byte> _arena = new(64 * 1024);
    private readonly List<SbacOutput> _outputs = new(256);

    public int Count => _outputs.Count;
    public SbacOutput this[int index] => _outputs[index];
    public ReadOnlySpan<byte> Payload(in SbacOutput output) => _arena.WrittenSpan.Slice(output.Offset, output.Length);

    internal IBufferWriter<byte> BeginPayload(out int offset)
    {
        offset = _arena.WrittenCount;
        return _arena;
    }

    internal void AddVotes(uint shard, int offset) =>
        _outputs.Add(new SbacOutput(SbacOutputKind.VotesToShard, shard, default, default, offset, _arena.WrittenCount - offset));

    internal void AddVotesToClient(ulong client, int offset) =>
        _outputs.Add(new SbacOutput(SbacOutputKind.VotesToClient, 0, default, default, offset, _arena.WrittenCount - offset) { Client = client });

    internal void AddDecided(in Hash256 txId, Decision decision) =>
        _outputs.Add(new SbacOutput(SbacOutputKind.Decided, 0, txId, decision, 0, 0));

    public void Clear()
    {
        _outputs.Clear();
        _arena.ResetWrittenCount();
    }
}
