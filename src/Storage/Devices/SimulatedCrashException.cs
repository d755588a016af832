namespace Chainspace.Storage.Devices;

/// <summary>
/// Thrown by a device that a test stopped at a <see cref="RecycleStep"/>: the process is to be treated as dead from
/// here on (the test crashes the <see cref="FaultyDevice"/> and opens the log again). Not an <see cref="IOException"/>,
/// so nothing in the log mistakes it for a device error it could handle.
/// </summary>
public sealed class SimulatedCrashException(string message) : Exception(message);
