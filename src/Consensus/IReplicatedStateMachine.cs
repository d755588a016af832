using System.Buffers;
using Chainspace.Core;

namespace Chainspace.Consensus;

/// <summary>
/// The replicated application driven by the replica, synchronously inside <see cref="Replica.Step"/>
/// (still pure: no I/O). Every honest replica calls it with the same inputs in the same order, so it
/// must be deterministic.
/// </summary>
/// <remarks>
/// Requests carry no client signature: the replica only orders them and guarantees exactly-once per
/// (client, request number). The application validates content itself (S-BAC transactions are
/// self-authenticating; an Accept carries its proofs), so a forged request can at worst be ordered and
/// then refused by the application, deterministically at every replica.
/// </remarks>
public interface IReplicatedStateMachine
{
    void BeginBatch(ulong sequence);

    /// <summary>One request of a committed batch, in batch order. The replica guarantees exactly-once per
    /// (client, requestNumber) and never passes a duplicate. <paramref name="reply"/> is sent to that
    /// client (empty = none).</summary>
    void Execute(ulong sequence, ulong client, ulong requestNumber, ReadOnlySpan<byte> operation, IBufferWriter<byte> reply);

    /// <summary>End of the batch: the app may emit per-batch outputs here (S-BAC signs its votes once per batch).</summary>
    void EndBatch(ulong sequence);

    /// <summary>Digest of the application state after executing <paramref name="sequence"/> (checkpoints,
    /// state transfer check).</summary>
    Hash256 StateDigest(ulong sequence);

    /// <summary>Writes the whole application state.</summary>
    void WriteSnapshot(IBufferWriter<byte> destination);

    /// <summary>A checkpoint, right after <paramref name="sequence"/> executes: writes the whole state into
    /// <paramref name="snapshot"/> and returns <see cref="StateDigest"/> of it. An application whose digest is the
    /// snapshot's hash overrides this to build the snapshot once, where the replica keeps it.</summary>
    Hash256 WriteCheckpoint(ulong sequence, IBufferWriter<byte> snapshot)
    {
        var digest = StateDigest(sequence);
        WriteSnapshot(snapshot);
        return digest;
    }

    /// <summary>Replaces the whole application state with a snapshot taken after <paramref name="sequence"/>.
    /// The replica checks <see cref="StateDigest"/> afterwards and refetches if it does not match, so an
    /// implementation may throw nothing and simply load what it can parse; it must not emit outputs.</summary>
    void RestoreSnapshot(ReadOnlySpan<byte> snapshot, ulong sequence);
}
