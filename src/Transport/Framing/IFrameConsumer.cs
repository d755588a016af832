namespace Chainspace.Transport.Framing;

/// <summary>Where <see cref="FrameReceiver"/> hands complete frames (a <see cref="Connection"/>, or a test).</summary>
internal interface IFrameConsumer
{
    /// <summary>One complete frame, valid during the call; false once the consumer closed (stop parsing).</summary>
    bool OnWireFrame(in FrameHeader header, ReadOnlySpan<byte> payload);

    /// <summary>Largest payload accepted right now: small before authentication, so a stranger cannot make us hold big buffers.</summary>
    int PayloadBytesLimit { get; }

    /// <summary>The stream is malformed: close with this logged reason. Always returns false.</summary>
    bool Reject(string reason);
}
