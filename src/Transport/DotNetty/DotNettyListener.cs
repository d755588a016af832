using System.Net;
using DotNetty.Transport.Channels;

namespace Chainspace.Transport.DotNetty;

/// <summary>A bound DotNetty server channel.</summary>
internal sealed class DotNettyListener(IChannel channel) : IConnectionListener
{
    public IPEndPoint EndPoint { get; } = ToIPEndPoint(channel.LocalAddress);

    /// <summary>DotNetty binds dual-mode sockets and reports IPv4 as IPv4-mapped IPv6; callers dial what they bound.</summary>
    private static IPEndPoint ToIPEndPoint(EndPoint address)
    {
        var ip = address as IPEndPoint ?? throw new InvalidOperationException($"listener bound to non-IP address {address}");
        return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
    }

    public async ValueTask DisposeAsync() => await channel.CloseAsync().ConfigureAwait(false);
}
