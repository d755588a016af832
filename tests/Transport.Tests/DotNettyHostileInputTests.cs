namespace Chainspace.Transport.Tests;

public sealed class DotNettyHostileInputTests : HostileInputTests
{
    protected override TransportKind Kind => TransportKind.DotNetty;
}
