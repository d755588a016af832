namespace Chainspace.Transport.Tests;

public sealed class SocketTransportConformanceTests : TransportConformanceTests
{
    protected override TransportKind Kind => TransportKind.Socket;
}

/// <summary>The socket transport with receives resumed on its thread-pool queue instead of inline.</summary>
public sealed class SocketQueuedReceiveConformanceTests : TransportConformanceTests
{
    protected override TransportKind Kind => TransportKind.Socket;
    protected override TransportOptions Adjust(TransportOptions options) => options with { InlineReceive = false };
}
