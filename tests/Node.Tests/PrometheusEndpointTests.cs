using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;

namespace Chainspace.Node.Tests;

public sealed class PrometheusEndpointTests
{
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Scrape_ExposesCountersGaugesAndHistograms_InTextFormat()
    {
        string meterName = "Chainspace.Test." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        long committed = 41;
        var node = new KeyValuePair<string, object?>("node", "s0r\"1");
        meter.CreateObservableCounter("chainspace.tx.committed", () => new Measurement<long>(committed, node), "{tx}", "transactions committed");
        meter.CreateObservableGauge("chainspace.queue.depth", () => new Measurement<long>(7, node));
        var pushed = meter.CreateCounter<long>("chainspace.pushed");
        var batch = meter.CreateHistogram<double>("chainspace.batch.size");
        using var endpoint = PrometheusEndpoint.Start(meterName, "127.0.0.1", FreePort());
        pushed.Add(2);
        pushed.Add(3);
        batch.Record(10);
        batch.Record(30);
        committed = 42;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(endpoint.Url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        string text = await response.Content.ReadAsStringAsync();

        Assert.Contains("# TYPE chainspace_tx_committed_total counter\n", text);
        Assert.Contains("# HELP chainspace_tx_committed_total transactions committed ({tx})\n", text);
        Assert.Contains("chainspace_tx_committed_total{node=\"s0r\\\"1\"} 42\n", text);   // read at scrape time, label escaped
        Assert.Contains("# TYPE chainspace_queue_depth gauge\n", text);
        Assert.Contains("chainspace_queue_depth{node=\"s0r\\\"1\"} 7\n", text);
        Assert.Contains("chainspace_pushed_total 5\n", text);
        Assert.Contains("# TYPE chainspace_batch_size summary\n", text);
        Assert.Contains("chainspace_batch_size_sum 40\n", text);
        Assert.Contains("chainspace_batch_size_count 2\n", text);
    }

    [Fact]
    public async Task OtherPathsAndMethods_AreRefused()
    {
        string meterName = "Chainspace.Test." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var endpoint = PrometheusEndpoint.Start(meterName, "127.0.0.1", FreePort());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string root = endpoint.Url[..^"metrics".Length];
        using (var missing = await http.GetAsync(root + "nothing")) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var post = await http.PostAsync(endpoint.Url, new StringContent("x"))) Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void PortInUse_FailsWithHttpListenerException()
    {
        string meterName = "Chainspace.Test." + Guid.NewGuid().ToString("N");
        int port = FreePort();
        using var first = PrometheusEndpoint.Start(meterName, "127.0.0.1", port);
        Assert.Throws<HttpListenerException>(() => PrometheusEndpoint.Start(meterName, "127.0.0.1", port));
    }

    [Theory]
    [InlineData("chainspace.tx.committed", "chainspace_tx_committed")]
    [InlineData("9lives", "_9lives")]
    [InlineData("a-b c", "a_b_c")]
    public void MetricNames_AreSanitised(string name, string expected) => Assert.Equal(expected, PrometheusEndpoint.MetricName(name));
}
