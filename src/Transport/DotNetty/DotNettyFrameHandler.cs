using DotNetty.Buffers;
using DotNetty.Transport.Channels;

namespace Chainspace.Transport.DotNetty;

/// <summary>The one handler in each channel's pipeline: forwards bytes and lifecycle events to its connection.</summary>
internal sealed class DotNettyFrameHandler(DotNettyConnection connection) : ChannelHandlerAdapter
{
    public override void ChannelActive(IChannelHandlerContext context)
    {
        connection.OnActive();
        base.ChannelActive(context);
    }

    public override void ChannelRead(IChannelHandlerContext context, object message)
    {
        if (message is IByteBuffer buffer) connection.OnRead(buffer);
        else global::DotNetty.Common.Utilities.ReferenceCountUtil.Release(message);
    }

    public override void ChannelInactive(IChannelHandlerContext context)
    {
        connection.OnInactive();
        base.ChannelInactive(context);
    }

    public override void ExceptionCaught(IChannelHandlerContext context, Exception exception) => connection.OnException(exception);
}
