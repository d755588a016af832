namespace Chainspace.Storage.Devices;

/// <summary>
/// The steps of <see cref="IStorageDevice.ReuseSegment"/> and <see cref="IStorageDevice.RetireSegment"/> after which a
/// test can stop a device as if the machine had crashed there (<see cref="FaultyDevice.CrashAtNextRecycleStep"/>).
/// </summary>
public enum RecycleStep : byte
{
    /// <summary>A segment was moved to the retired set; its directory entry is not synced yet.</summary>
    Retired,

    /// <summary>A retired segment was taken under its temporary name; its old header is still in place.</summary>
    Taken,

    /// <summary>The new header is written and synced; the file still has its temporary name.</summary>
    HeaderWritten,

    /// <summary>The file was renamed to the new segment's name; the directory is not synced yet.</summary>
    Renamed,
}
