namespace Chainspace.Transport.Sockets;

/// <summary>
/// The runtime's socket engine completes operations on its epoll threads only when the environment variable
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> is set when the engine starts (it is read once, by a
/// static initializer); otherwise every completion is first queued to the thread pool. There is no API for it,
/// so a process that wants it sets the variable before its first socket operation.
/// </summary>
public static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Asks for inline completions, unless the variable is already set (the user's choice wins). Call at the top
    /// of Main, before any socket is used; later calls have no effect on an engine already running.
    /// </summary>
    public static void RunInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null) Environment.SetEnvironmentVariable(Variable, "1");
    }

    /// <summary>The number of epoll threads the engine starts with, read the same way (once, at its start).</summary>
    public const string EngineThreadsVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>
    /// Asks for <paramref name="threads"/> epoll threads, unless the variable is already set. Same rule as
    /// <see cref="RunInline"/>: before the process's first socket operation.
    /// </summary>
    public static void UseEngineThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (Environment.GetEnvironmentVariable(EngineThreadsVariable) is null)
            Environment.SetEnvironmentVariable(EngineThreadsVariable, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
