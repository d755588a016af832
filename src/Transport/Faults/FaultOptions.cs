namespace Chainspace.Transport.Faults;

/// <summary>
/// Rates (0..1, per frame) and a seed for <see cref="FaultInjector"/>. The same seed makes the same
/// per-frame decisions in the same send order; delivery timing of delayed frames follows the clock.
/// </summary>
public sealed record FaultOptions
{
    public int Seed { get; init; } = 1;
    public double DropRate { get; init; }
    public double DuplicateRate { get; init; }
    public double DelayRate { get; init; }
    /// <summary>A reordered frame is held back until the next frame to the same peer has gone (or <see cref="DelayMax"/> passes).</summary>
    public double ReorderRate { get; init; }
    public TimeSpan DelayMin { get; init; } = TimeSpan.FromMilliseconds(1);
    public TimeSpan DelayMax { get; init; } = TimeSpan.FromMilliseconds(50);

    public FaultOptions Validate()
    {
        foreach (var (name, rate) in new[] { ("drop", DropRate), ("duplicate", DuplicateRate), ("delay", DelayRate), ("reorder", ReorderRate) })
            if (rate is < 0 or > 1 || double.IsNaN(rate)) throw new ArgumentException($"faults.{name}Rate: need 0..1, got {rate}");
        if (DelayMin < TimeSpan.Zero || DelayMax < DelayMin) throw new ArgumentException("faults.delay: need 0 <= min <= max");
        return this;
    }
}
