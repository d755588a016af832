namespace Chainspace.Storage.Devices;

/// <summary>
/// The device could not reserve the space for a new segment (ENOSPC, EFBIG, or a capacity limit).
/// Nothing was lost: the segments that exist are intact and the log that asked stays readable.
/// </summary>
public sealed class StorageFullException(string message, Exception? inner = null) : IOException(message, inner);
