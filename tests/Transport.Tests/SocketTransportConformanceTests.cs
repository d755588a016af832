namespace Chainspace.Transport.Tests;

public sealed class SocketTransportConformanceTests : TransportConformanceTests
{
    protected override TransportKind Kind => TransportKind.Socket;
}
