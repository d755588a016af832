namespace Chainspace.Simulation;

/// <summary>
/// Durability as the simulator models it: the replica's records appended in order, made durable by a flush,
/// trimmed from the front on TruncateLog, and after a crash whatever survived, in order. <see cref="SimDisk"/>
/// implements it in memory with faults; the storage project's append log (src/Storage, its FaultyDevice)
/// can be plugged in behind this same interface without touching the replica or the simulator's checks.
/// </summary>
public interface IDurableLog
{
    /// <summary>Appends the record <paramref name="head"/> ‖ <paramref name="tail"/> (a Persist's payload and tail).</summary>
    void Append(ulong persistId, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail);
    /// <summary>Highest persist id appended so far (0 if none).</summary>
    ulong AppendedId { get; }
    /// <summary>Highest persist id known durable.</summary>
    ulong DurableId { get; }
    /// <summary>Makes everything appended so far durable (the simulator calls it when a flush completes).</summary>
    void FlushTo(ulong persistId);
    /// <summary>Records with persist id below <paramref name="persistId"/> may be dropped.</summary>
    void Truncate(ulong persistId);
    /// <summary>Power loss: unflushed records may vanish, and the last one that reached the device may be torn.</summary>
    void Crash(SimRandom random);
    /// <summary>The records recovery finds, oldest first (a torn tail is detected and cut).</summary>
    IReadOnlyList<byte[]> Recover();
}
