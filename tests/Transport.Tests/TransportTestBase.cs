using System.Net;
using Chainspace.Core.Cluster;

namespace Chainspace.Transport.Tests;

/// <summary>
/// Creates transports of one kind and disposes them after each test, asserting that every pooled
/// buffer came back (Outstanding == 0) and no connection is left.
/// </summary>
public abstract class TransportTestBase : IAsyncLifetime
{
    private readonly List<ITransport> _transports = new();

    protected LogSink Log { get; } = new();

    protected abstract TransportKind Kind { get; }

    /// <summary>Options every transport of this test class gets (a variant of the transport under test).</summary>
    protected virtual TransportOptions Adjust(TransportOptions options) => options;

    protected ITransport Create(LocalIdentity identity, RecordingHandler handler, Func<TransportOptions, TransportOptions>? tweak = null, ClusterConfig? cluster = null)
    {
        var transport = TransportFactory.Create(Kind, cluster ?? TestCluster.Config, identity, handler, Adjust(TestCluster.Options(Log, tweak)));
        lock (_transports) _transports.Add(transport);
        return transport;
    }

    protected async Task<(ITransport Server, RecordingHandler ServerHandler, IPEndPoint EndPoint)> StartServer(int replica = 0, Func<TransportOptions, TransportOptions>? tweak = null)
    {
        var handler = new RecordingHandler();
        var server = Create(TestCluster.Replica(replica), handler, tweak);
        var listener = await server.ListenAsync(TestCluster.AnyPort);
        return (server, handler, listener.EndPoint);
    }

    /// <summary>Disposes one transport now (a crashed or stopped peer) and checks it leaked nothing.</summary>
    protected async Task Stop(ITransport transport)
    {
        lock (_transports) _transports.Remove(transport);
        await transport.DisposeAsync();
        AssertNothingLeaked(transport);
    }

    protected static void AssertNothingLeaked(ITransport transport)
    {
        Assert.Equal(0, transport.Pool.Outstanding);
        Assert.Equal(0, transport.ConnectionCount);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        ITransport[] all;
        lock (_transports) all = _transports.ToArray();
        foreach (var t in all) await t.DisposeAsync();
        foreach (var t in all) AssertNothingLeaked(t);
    }
}
