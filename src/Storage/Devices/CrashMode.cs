namespace Chainspace.Storage.Devices;

/// <summary>What a simulated crash (<see cref="FaultyDevice.Crash(CrashMode)"/>) does with bytes written but not flushed.</summary>
public enum CrashMode : byte
{
    /// <summary>None of them reach the media.</summary>
    LoseUnflushed,

    /// <summary>A prefix of them does, cut at a random byte: the last write is torn.</summary>
    TearLastWrite,

    /// <summary>A random subset of the dirty pages does, in no particular order (what page writeback may do).</summary>
    ReorderPages,
}
