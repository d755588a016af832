namespace Chainspace.Transport;

internal static class ConnectionSetup
{
    /// <summary>Waits for the handshake; on cancellation or failure closes the connection and throws.</summary>
    public static async Task AwaitEstablishedAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Established.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            connection.Close("handshake did not complete before the connect timeout", TransportLogLevel.Warning);
            throw new TimeoutException($"connection to {connection.RemoteEndPoint}: handshake did not complete in time");
        }
    }
}
