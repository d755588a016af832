namespace Chainspace.Consensus;

/// <summary>Why a peer or client input was dropped. Each is counted; none changes state.</summary>
public enum RejectReason
{
    Malformed,
    UnknownSender,
    WrongView,
    OutsideWindow,
    BadSignature,
    DigestMismatch,
    Duplicate,
    NotPrimary,
    /// <summary>A second, different message for a slot a sender already used (equivocation).</summary>
    Conflict,
    /// <summary>A certificate or proof inside the message does not hold.</summary>
    BadProof,
    /// <summary>A request below its client's exactly-once window.</summary>
    Stale,
    QueueFull,
    /// <summary>Asked for something this replica no longer (or not yet) holds.</summary>
    Unavailable,
    /// <summary>A snapshot piece from a replica this one did not ask (it could only race the real answer).</summary>
    Unsolicited,
}
