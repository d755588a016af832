namespace Chainspace.Transport.Tests;

public sealed class DotNettyTransportConformanceTests : TransportConformanceTests
{
    protected override TransportKind Kind => TransportKind.DotNetty;
}
