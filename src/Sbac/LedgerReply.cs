using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac;

/// <summary>What executing one command did, as the replica tells the request's sender. Wire values.</summary>
public enum LedgerStatus : byte
{
    /// <summary>Prepare executed now: this shard's vote.</summary>
    Voted = 1,
    /// <summary>Prepare for a transaction this shard already voted on: the recorded vote, unchanged.</summary>
    AlreadyVoted = 2,
    /// <summary>The transaction is decided here (by this command or earlier): the decision.</summary>
    Decided = 3,
    /// <summary>This shard manages none of the transaction's inputs or references.</summary>
    NotConcerned = 4,
    /// <summary>The command or its transaction does not decode.</summary>
    Malformed = 5,
    /// <summary>Accept or Create whose proofs do not establish the claimed decision.</summary>
    InvalidProof = 6,
    /// <summary>Creates entries this batch's vote table had no room for: not decided, to be proposed again.</summary>
    Deferred = 7,
}

/// <summary>Reply := u8 status ‖ Hash256 txId ‖ u8 decision (0 when there is none).</summary>
public readonly record struct LedgerReply(LedgerStatus Status, Hash256 TransactionId, Decision? Decision)
{
    public const int Size = 1 + Hash256.Size + 1;

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = (byte)Status;
        TransactionId.WriteTo(destination[1..]);
        destination[1 + Hash256.Size] = Decision is { } d ? (byte)d : (byte)0;
    }

    public static bool TryRead(ReadOnlySpan<byte> source, out LedgerReply reply)
    {
        reply = default;
        if (source.Length != Size || source[0] is 0 or > (byte)LedgerStatus.Deferred) return false;
        byte d = source[Size - 1];
        if (d != 0 && !DecisionExtensions.IsDefined(d)) return false;
        reply = new LedgerReply((LedgerStatus)source[0], new Hash256(source.Slice(1, Hash256.Size)), d == 0 ? null : (Decision)d);
        return true;
    }
}
