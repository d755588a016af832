namespace Chainspace.Transport;

/// <summary>Outcome of a non-blocking send. Only <see cref="Queued"/> means the frame will be written.</summary>
public enum SendStatus : byte
{
    Queued = 0,
    /// <summary>The peer's bounded send queue is full: backpressure, try later or drop.</summary>
    QueueFull = 1,
    /// <summary>No authenticated connection (not yet established, closed, or reconnecting).</summary>
    NotConnected = 2,
    /// <summary>The payload exceeds <see cref="TransportOptions.FrameBytesMax"/>.</summary>
    TooLarge = 3,
}
