namespace Chainspace.Transport.Faults;

/// <summary>How many frames each fault touched, so a test can check that its faults actually happened.</summary>
public sealed class FaultCounters
{
    internal long DroppedCount, DuplicatedCount, DelayedCount, ReorderedCount, PartitionedCount;

    public long Dropped => Interlocked.Read(ref DroppedCount);
    public long Duplicated => Interlocked.Read(ref DuplicatedCount);
    public long Delayed => Interlocked.Read(ref DelayedCount);
    public long Reordered => Interlocked.Read(ref ReorderedCount);
    public long Partitioned => Interlocked.Read(ref PartitionedCount);
}
