using System.Collections.Concurrent;

namespace Chainspace.Transport.Tests;

/// <summary>Collects transport log lines so tests can assert the logged close reasons.</summary>
public sealed class LogSink
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public void Log(TransportLogLevel level, string message) => Lines.Enqueue($"{level}: {message}");

    public bool Contains(string fragment) => Lines.Any(l => l.Contains(fragment, StringComparison.Ordinal));

    public int Count(string fragment) => Lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public override string ToString() => string.Join("\n", Lines.TakeLast(40));
}
