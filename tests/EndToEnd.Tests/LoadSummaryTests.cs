using Chainspace.LoadGen;

namespace Chainspace.EndToEnd.Tests;

public class LoadSummaryTests
{
    private static LoadSummary Summary(string? statsUnavailable) =>
        new(15, 150_000, 0, 0, 0, 150_256, 10_000, 19.5, 27, 48, 600, 5_400, 0.152, 66.4, 0, 0, false, statsUnavailable);

    [Fact]
    public void Summary_WithNodeStats_ReportsNodeCostAndBatches()
    {
        string text = Summary(null).Format();
        Assert.Contains("committed    150,000 tx in 15.0 s = 10,000 tx/s", text);
        Assert.Contains("node cost    5,400 B allocated and 152 µs CPU per committed tx", text);
        Assert.Contains("batches      66.4 requests per PBFT batch", text);
    }

    // A node that does not answer its stats query (stalled, or down) used to end the run with a TimeoutException's
    // stack trace, losing the figures the load generator had measured itself.
    [Fact]
    public void Summary_WithoutNodeStats_KeepsTheRunsFiguresAndSaysWhy()
    {
        string text = Summary("node s0r1 did not answer its stats query within 5 s").Format();
        Assert.Contains("= 10,000 tx/s", text);
        Assert.Contains("p50 19.50 ms", text);
        Assert.Contains("node cost    unavailable: node s0r1 did not answer its stats query within 5 s", text);
        Assert.DoesNotContain("B allocated", text);
    }
}
