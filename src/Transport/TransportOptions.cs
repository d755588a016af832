namespace Chainspace.Transport;

/// <summary>
/// Bounds and knobs of a transport, validated once by <see cref="Validate"/> (the transports call it at
/// construction), naming the bad field. Every bound the transport enforces is here.
/// </summary>
public sealed record TransportOptions
{
    /// <summary>Largest payload of one frame, before compression and after decompression.</summary>
    public int FrameBytesMax { get; init; } = 1 << 20;

    /// <summary>Payloads at least this long are LZ4-compressed when that makes them smaller. int.MaxValue disables.</summary>
    public int CompressBytesMin { get; init; } = 16 * 1024;

    /// <summary>Bound of one connection's send queue (encoded bytes not yet written to the socket).</summary>
    public int SendQueueBytesMax { get; init; } = 4 << 20;

    /// <summary>Receive buffer of one connection; larger frames are assembled in a pooled buffer of their own.</summary>
    public int ReceiveBufferBytes { get; init; } = 64 * 1024;

    /// <summary>A connection that has not authenticated within this time is closed.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Inbound connections beyond this many (authenticated or not) are closed on accept.</summary>
    public int InboundConnectionsMax { get; init; } = 1024;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ReconnectDelayMin { get; init; } = TimeSpan.FromMilliseconds(20);
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Frame types a replica may send. Defaults to every non-control type.</summary>
    public FrameTypeSet PeerFrameTypes { get; init; } = FrameTypeSet.Range(0, Framing.FrameHeader.ControlTypeFirst - 1);

    /// <summary>Frame types a client may send: protocol configuration, empty by default.</summary>
    public FrameTypeSet ClientFrameTypes { get; init; } = new();

    /// <summary>Pooled blocks kept per size class; blocks returned beyond this are left to the GC.</summary>
    public int PoolBlocksRetainedMax { get; init; } = 512;

    /// <summary>Pooled blocks allocated per size class at startup, up to the receive-buffer class.</summary>
    public int PoolBlocksPreallocated { get; init; } = 8;

    /// <summary>Size of the blocks the send pipe is built from; one send syscall writes at most one block.</summary>
    public int SendSegmentBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Socket transport: a completed receive is parsed and handed to <see cref="IFrameHandler"/> on the thread
    /// that completed it, instead of being queued to the thread pool first. Together with the runtime's inline
    /// socket completions (<see cref="SocketCompletions.RunInline"/>), a received frame reaches the handler on
    /// the socket engine's thread with no thread hop: on 2 cores with 8 replica processes, each hop's wake-up
    /// and context switch cost more than the frame's processing (loadgen, 2 × 4: 7.0–7.5k tx/s with both,
    /// 6.5–6.7k without). Handlers must then be short and never block, as <see cref="IFrameHandler"/> asks
    /// anyway: a blocked handler stalls every connection served by that engine thread.
    /// </summary>
    public bool InlineReceive { get; init; } = true;

    public TransportLogger? Logger { get; init; }

    /// <summary>Largest encoded frame on the wire: header, optional raw-length word, and LZ4's worst case.</summary>
    internal int WireBytesMax => Framing.FrameHeader.Size + Framing.FrameHeader.RawLengthSize + K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(FrameBytesMax);

    public TransportOptions Validate()
    {
        if (FrameBytesMax is < 64 or > 64 << 20) throw new ArgumentException($"transport.frameBytesMax: need 64..{64 << 20}, got {FrameBytesMax}");
        if (CompressBytesMin < 64) throw new ArgumentException($"transport.compressBytesMin: need >= 64, got {CompressBytesMin}");
        if (SendQueueBytesMax < WireBytesMax) throw new ArgumentException($"transport.sendQueueBytesMax: must hold one largest frame ({WireBytesMax} bytes), got {SendQueueBytesMax}");
        if (ReceiveBufferBytes is < 1024 or > 16 << 20) throw new ArgumentException($"transport.receiveBufferBytes: need 1 KiB..16 MiB, got {ReceiveBufferBytes}");
        if (SendSegmentBytes is < 1024 or > 1 << 20) throw new ArgumentException($"transport.sendSegmentBytes: need 1 KiB..1 MiB, got {SendSegmentBytes}");
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException("transport.handshakeTimeout: must be positive");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentException("transport.connectTimeout: must be positive");
        if (InboundConnectionsMax < 1) throw new ArgumentException($"transport.inboundConnectionsMax: need >= 1, got {InboundConnectionsMax}");
        if (ReconnectDelayMin <= TimeSpan.Zero || ReconnectDelayMax < ReconnectDelayMin) throw new ArgumentException("transport.reconnectDelay: need 0 < min <= max");
        if (PoolBlocksRetainedMax < 1 || PoolBlocksPreallocated < 0 || PoolBlocksPreallocated > PoolBlocksRetainedMax)
            throw new ArgumentException("transport.poolBlocks: need 0 <= preallocated <= retainedMax, retainedMax >= 1");
        if (PeerFrameTypes.IntersectsControlRange() || ClientFrameTypes.IntersectsControlRange())
            throw new ArgumentException($"transport.frameTypes: types >= 0x{Framing.FrameHeader.ControlTypeFirst:X2} are reserved for the transport");
        return this;
    }
}
