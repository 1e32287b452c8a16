using System.Globalization;
using System.Text;

namespace Dmp.Stats;

/// <summary>
/// The Prometheus text exposition format (0.0.4, which node_exporter's textfile collector reads): per
/// device and operation, requests, bytes and errors (counters), requests in flight (a gauge), and the
/// service-time and size histograms (cumulative buckets, sum and count).
/// </summary>
internal static class MetricsExposition
{
    /// <summary>Every device's metrics, and the daemon's own: what it has allocated so far, which stays
    /// flat while it serves requests (read first, so the rendering below does not count).</summary>
    public static string Format(ModuleStatistics statistics)
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var text = new StringBuilder();
        Header(text, "dmp_allocated_bytes_total", "counter", "Bytes the daemon has allocated on its managed heap since it started.");
        text.Append("dmp_allocated_bytes_total ").Append(Number(allocated)).Append('\n');
        return Append(text, statistics.DeviceSnapshots()).ToString();
    }

    public static string Format(IEnumerable<(string Device, IoCounters Counters)> devices) => Append(new StringBuilder(), devices).ToString();

    private static StringBuilder Append(StringBuilder text, IEnumerable<(string Device, IoCounters Counters)> devices)
    {
        (string Device, IoCounters Counters)[] all = devices.ToArray();
        Family(text, all, "dmp_requests_total", "counter", "Requests dmp answered.", (counters, operation) => counters[operation].Requests);
        Family(text, all, "dmp_bytes_total", "counter", "Bytes the answered requests covered.", (counters, operation) => counters[operation].Bytes);
        Family(text, all, "dmp_errors_total", "counter", "Requests answered with an error.", (counters, operation) => counters[operation].Errors);
        Family(text, all, "dmp_in_flight", "gauge", "Requests received and not yet answered.", (counters, operation) => counters.InFlight(operation));
        HistogramFamily(text, all, "dmp_request_duration_seconds", "Time from a request's arrival to its reply.",
            (counters, operation) => counters.Latency(operation), bound => bound * 1e-6, (counters, operation) => counters.Nanoseconds(operation) * 1e-9);
        HistogramFamily(text, all, "dmp_request_size_bytes", "Sizes of the answered requests.",
            (counters, operation) => counters.Sizes(operation), bound => bound, (counters, operation) => counters[operation].Bytes);
        return text;
    }

    private static void Family(
        StringBuilder text, (string Device, IoCounters Counters)[] devices, string name, string type, string help, Func<IoCounters, IoOperation, long> value)
    {
        Header(text, name, type, help);
        foreach ((string device, IoCounters counters) in devices)
        {
            foreach (IoOperation operation in IoOperations.All)
            {
                text.Append(name).Append('{').Append(Labels(device, operation)).Append("} ").Append(Number(value(counters, operation))).Append('\n');
            }
        }
    }

    private static void HistogramFamily(
        StringBuilder text, (string Device, IoCounters Counters)[] devices, string name, string help,
        Func<IoCounters, IoOperation, Histogram> histogramOf, Func<double, double> bound, Func<IoCounters, IoOperation, double> sum)
    {
        Header(text, name, "histogram", help);
        foreach ((string device, IoCounters counters) in devices)
        {
            foreach (IoOperation operation in IoOperations.All)
            {
                Histogram histogram = histogramOf(counters, operation);
                string labels = Labels(device, operation);
                long cumulative = 0;
                for (int bucket = 0; bucket < Histogram.BucketCount; bucket++)
                {
                    cumulative += histogram[bucket];
                    string le = bucket < Histogram.BucketCount - 1 ? Number(bound(Histogram.UpperBound(bucket))) : "+Inf";
                    text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ").Append(Number(cumulative)).Append('\n');
                }

                text.Append(name).Append("_sum{").Append(labels).Append("} ").Append(Number(sum(counters, operation))).Append('\n');
                text.Append(name).Append("_count{").Append(labels).Append("} ").Append(Number(cumulative)).Append('\n');
            }
        }
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    /// <summary>The labels of a sample, without their braces (a histogram bucket adds <c>le</c>).</summary>
    private static string Labels(string device, IoOperation operation) =>
        $"device=\"{Escape(device)}\",operation=\"{IoOperations.NameOf(operation)}\"";

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Shortest round-trip form, with a lower-case exponent as Prometheus' own clients write it ("1e-06").</summary>
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
}
