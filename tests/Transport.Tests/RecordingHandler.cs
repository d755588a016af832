using System.Collections.Concurrent;

namespace Chainspace.Transport.Tests;

public sealed record ReceivedFrame(Connection From, byte Type, byte[] Payload, bool WasCompressed);

public delegate void FrameHook(Connection connection, in InboundFrame frame);

/// <summary>Test handler: copies every frame (tests may allocate) and records connection events.</summary>
public sealed class RecordingHandler : IFrameHandler
{
    public ConcurrentQueue<ReceivedFrame> Frames { get; } = new();
    public ConcurrentQueue<Connection> Connected { get; } = new();
    public ConcurrentQueue<(Connection Connection, string Reason)> Disconnected { get; } = new();

    /// <summary>When set, OnFrame blocks until it is signalled: a slow reader.</summary>
    public ManualResetEventSlim? Gate { get; set; }

    /// <summary>When set, replaces recording (e.g. counting only).</summary>
    public FrameHook? Hook { get; set; }

    public int FrameCount => Frames.Count;

    public void OnConnected(Connection connection) => Connected.Enqueue(connection);

    public void OnFrame(Connection connection, in InboundFrame frame)
    {
        Gate?.Wait(TimeSpan.FromSeconds(30));
        if (Hook is { } hook)
        {
            hook(connection, frame);
            return;
        }
        Frames.Enqueue(new ReceivedFrame(connection, frame.Type, frame.Payload.ToArray(), frame.WasCompressed));
    }

    public void OnDisconnected(Connection connection, string reason) => Disconnected.Enqueue((connection, reason));
}
