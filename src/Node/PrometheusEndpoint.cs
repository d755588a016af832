using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Chainspace.Node;

/// <summary>
/// Serves one meter's instruments at <c>http://host:port/metrics</c> in the Prometheus text exposition format
/// (version 0.0.4), for the node's optional <c>--metrics-port</c>. Hand-written over HttpListener and
/// MeterListener: the OpenTelemetry Prometheus exporter is not in our package registry, and a scrape every few
/// seconds is far from any hot path. Observable instruments are read when a scrape asks (the event loop pays
/// nothing); counters and histograms pushed with Add/Record are accumulated as they happen.
/// Names follow Prometheus conventions: dots become underscores, counters get <c>_total</c>, and histograms are
/// exposed as summaries without quantiles (<c>_count</c> and <c>_sum</c>).
/// </summary>
public sealed class PrometheusEndpoint : IDisposable
{
    private readonly string _meterName;
    private readonly HttpListener _http = new();
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    // Per instrument, per tag set: the value (last for gauges and observable counters, running sum otherwise) and count.
    private readonly Dictionary<Instrument, Dictionary<string, (double Value, long Count)>> _series = new();
    private readonly Task _serving;
    private int _disposed;

    private PrometheusEndpoint(string meterName, string prefix)
    {
        _meterName = meterName;
        _http.Prefixes.Add(prefix);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != _meterName) return;
            lock (_gate) _series.TryAdd(instrument, new Dictionary<string, (double, long)>());
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_gate) _series.Remove(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        _http.Start();
        Url = prefix + "metrics";
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>Where a scraper reads the metrics.</summary>
    public string Url { get; }

    /// <summary>Starts serving <paramref name="meterName"/>'s instruments on <paramref name="host"/>:<paramref name="port"/>. Throws <see cref="HttpListenerException"/> when the port is taken.</summary>
    public static PrometheusEndpoint Start(string meterName, string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterName);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        string authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new PrometheusEndpoint(meterName, $"http://{authority}:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string labels = Labels(tags);
        bool cumulative = instrument is Counter<long> or Counter<int> or Counter<double> or UpDownCounter<long> or UpDownCounter<int>
            or UpDownCounter<double> or Histogram<long> or Histogram<int> or Histogram<double>;
        lock (_gate)
        {
            if (!_series.TryGetValue(instrument, out var series)) return;
            series.TryGetValue(labels, out var current);
            series[labels] = cumulative ? (current.Value + value, current.Count + 1) : (value, 1);
        }
    }

    /// <summary>The exposition text as a scrape sees it.</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder(2048);
        lock (_gate)
        {
            foreach (var (instrument, series) in _series.OrderBy(p => p.Key.Name, StringComparer.Ordinal))
            {
                string name = MetricName(instrument.Name);
                bool histogram = instrument is Histogram<long> or Histogram<int> or Histogram<double>;
                bool counter = instrument is Counter<long> or Counter<int> or Counter<double>
                    or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>;
                string type = histogram ? "summary" : counter ? "counter" : "gauge";
                if (type == "counter") name += "_total";
                string help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
                if (!string.IsNullOrEmpty(instrument.Unit)) help += $" ({instrument.Unit})";
                text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
                foreach (var (labels, (value, count)) in series.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (histogram)
                    {
                        text.Append(name).Append("_sum").Append(labels).Append(' ').Append(Number(value)).Append('\n');
                        text.Append(name).Append("_count").Append(labels).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    }
                    else
                    {
                        text.Append(name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
                    }
                }
            }
        }
        return text.ToString();
    }

    private async Task ServeAsync()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            HttpListenerContext context;
            try
            {
                context = await _http.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;   // stopped
            }
            try
            {
                var response = context.Response;
                if (context.Request.HttpMethod is not ("GET" or "HEAD"))
                {
                    response.StatusCode = 405;
                }
                else if (context.Request.Url?.AbsolutePath is not ("/metrics" or "/"))
                {
                    response.StatusCode = 404;
                }
                else
                {
                    byte[] body = Encoding.UTF8.GetBytes(Render());
                    response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    response.ContentLength64 = body.Length;
                    if (context.Request.HttpMethod == "GET") await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
                }
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The scraper went away mid-response: nothing to do, the next scrape starts afresh.
            }
        }
    }

    /// <summary>Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.</summary>
    internal static string MetricName(string name)
    {
        var s = new StringBuilder(name.Length);
        foreach (char c in name) s.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        if (s.Length == 0 || char.IsAsciiDigit(s[0])) s.Insert(0, '_');
        return s.ToString();
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty) return "";
        var pairs = new List<KeyValuePair<string, object?>>(tags.Length);
        foreach (var t in tags) pairs.Add(t);
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var s = new StringBuilder("{");
        for (int i = 0; i < pairs.Count; i++)
        {
            if (i > 0) s.Append(',');
            s.Append(MetricName(pairs[i].Key)).Append("=\"");
            foreach (char c in Convert.ToString(pairs[i].Value, CultureInfo.InvariantCulture) ?? "")
            {
                if (c is '\\' or '"') s.Append('\\').Append(c);
                else if (c == '\n') s.Append("\\n");
                else s.Append(c);
            }
            s.Append('"');
        }
        return s.Append('}').ToString();
    }

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _http.Stop();
        _http.Close();
        _listener.Dispose();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // ServeAsync handles its own errors; nothing left to report at shutdown.
        }
    }
}
