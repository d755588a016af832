using Chainspace.Core.Cluster;
using Chainspace.Transport.Sockets;

namespace Chainspace.Transport;

/// <summary>How the node picks a transport by configuration.</summary>
public static class TransportFactory
{
    /// <summary>
    /// The default, chosen by measurement (bench/Transport, TransportThroughputBenchmarks): the socket
    /// transport coalesces queued frames into one syscall and allocates nothing per frame.
    /// </summary>
    public const TransportKind DefaultKind = TransportKind.Socket;

    public static ITransport Create(TransportKind kind, ClusterConfig cluster, LocalIdentity identity, IFrameHandler handler, TransportOptions? options = null) =>
        kind switch
        {
            TransportKind.Socket => new SocketTransport(cluster, identity, handler, options),
            TransportKind.DotNetty => new DotNetty.DotNettyTransport(cluster, identity, handler, options),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown transport kind"),
        };
}
