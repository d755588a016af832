using DotNetty.Buffers;
using DotNetty.Transport.Channels;

namespace Chainspace.Transport.DotNetty;

/// <summary>
/// The one handler in each channel's pipeline. The connection (and its pooled receive buffer) is made
/// only when the channel becomes active: a connect that fails never goes inactive, so anything rented
/// earlier would never come back.
/// </summary>
internal sealed class DotNettyFrameHandler(Func<IChannel, DotNettyConnection?> createConnection) : ChannelHandlerAdapter
{
    private readonly TaskCompletionSource<DotNettyConnection> _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DotNettyConnection? _connection;

    /// <summary>Completes with the connection once the channel is active (initiators wait on this).</summary>
    public Task<DotNettyConnection> Active => _active.Task;

    public override void ChannelActive(IChannelHandlerContext context)
    {
        _connection = createConnection(context.Channel);
        if (_connection is null)
        {
            _active.TrySetException(new IOException("connection refused locally"));
            context.CloseAsync();
            return;
        }
        _connection.OnActive();
        _active.TrySetResult(_connection);
        base.ChannelActive(context);
    }

    public override void ChannelRead(IChannelHandlerContext context, object message)
    {
        if (_connection is not null && message is IByteBuffer buffer) _connection.OnRead(buffer);
        else global::DotNetty.Common.Utilities.ReferenceCountUtil.Release(message);
    }

    public override void ChannelInactive(IChannelHandlerContext context)
    {
        _connection?.OnInactive();
        base.ChannelInactive(context);
    }

    public override void ExceptionCaught(IChannelHandlerContext context, Exception exception)
    {
        if (_connection is not null) _connection.OnException(exception);
        else context.CloseAsync();
    }
}
