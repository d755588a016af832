using System.Net;
using DotNetty.Transport.Channels;

namespace Chainspace.Transport.DotNetty;

/// <summary>A bound DotNetty server channel.</summary>
internal sealed class DotNettyListener(IChannel channel) : IConnectionListener
{
    public IPEndPoint EndPoint { get; } = ToIPEndPoint(channel.LocalAddress);

    private static IPEndPoint ToIPEndPoint(EndPoint address) => address as IPEndPoint ?? throw new InvalidOperationException($"listener bound to non-IP address {address}");

    public async ValueTask DisposeAsync() => await channel.CloseAsync().ConfigureAwait(false);
}
