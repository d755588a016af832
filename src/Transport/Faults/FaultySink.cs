namespace Chainspace.Transport.Faults;

/// <summary>Sends from one named peer to another through the injector's drop/duplicate/delay/reorder/partition decisions.</summary>
internal sealed class FaultySink(FaultInjector injector, string from, string to, IFrameSink inner) : IFrameSink
{
    public string From { get; } = from;
    public string To { get; } = to;
    public IFrameSink Inner { get; } = inner;

    /// <summary>A reordered frame waiting for the next one on this sink; guarded by the injector's lock.</summary>
    internal HeldFrame? Reordered;

    public SendStatus TrySend(byte frameType, ReadOnlySpan<byte> payload) => injector.Send(this, frameType, payload);
}
