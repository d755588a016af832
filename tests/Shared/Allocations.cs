namespace Chainspace.Testing;

/// <summary>
/// Counting allocations of hot-path code without flakes. <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// also charges the runtime's own work to whichever thread triggers it: tiered compilation promoting a method
/// after its call counter fires, or on-stack replacement of a long loop, can allocate a few KB on the test
/// thread in the middle of a window of code that allocates nothing (CI once measured 8,168 B that way). So the
/// work runs once to warm up, then in up to <paramref name="windows"/> windows, and the cheapest one counts: a
/// real per-call allocation shows up in every window, the runtime's one-off costs do not.
/// </summary>
public static class Allocations
{
    public static long Fewest(Action work, int windows = 3)
    {
        work();
        long best = long.MaxValue;
        for (int window = 0; window < windows && best != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            work();
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return best;
    }
}
