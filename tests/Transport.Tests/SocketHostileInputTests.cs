namespace Chainspace.Transport.Tests;

public sealed class SocketHostileInputTests : HostileInputTests
{
    protected override TransportKind Kind => TransportKind.Socket;
}
