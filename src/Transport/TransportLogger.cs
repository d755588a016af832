namespace Chainspace.Transport;

public enum TransportLogLevel : byte { Debug, Information, Warning, Error }

/// <summary>
/// The transport's only logging dependency: a callback the node points at its logger. Called off the
/// hot path only (connection opened, closed with a reason, rejected input), never per frame.
/// </summary>
public delegate void TransportLogger(TransportLogLevel level, string message);
