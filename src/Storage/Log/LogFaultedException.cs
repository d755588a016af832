namespace Chainspace.Storage.Log;

/// <summary>
/// A write or flush of the log failed earlier; the log is poisoned and every later append or flush
/// throws this, carrying the original error. Durability can no longer be promised: stop the replica.
/// </summary>
public sealed class LogFaultedException(string location, Exception original)
    : IOException($"log '{location}' is faulted after an earlier I/O error: {original.Message}", original);
