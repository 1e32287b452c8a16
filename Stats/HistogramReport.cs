using System.Globalization;

namespace Dmp.Stats;

/// <summary>
/// <c>stat/latency</c> and <c>stat/sizes</c>: one line per bucket, its inclusive upper bound first
/// (<c>le_us</c> in microseconds, <c>le_bytes</c> in bytes; <c>+Inf</c> for the last), then how many
/// requests of each operation fell in it (not cumulative).
/// </summary>
internal static class HistogramReport
{
    public static string FormatLatency(IoCounters counters) => Format("le_us", counters.Latency);

    public static string FormatSizes(IoCounters counters) => Format("le_bytes", counters.Sizes);

    /// <summary>A bucket's upper bound as the files print it.</summary>
    public static string BoundText(int bucket) =>
        bucket < Histogram.BucketCount - 1 ? Histogram.UpperBound(bucket).ToString(CultureInfo.InvariantCulture) : "+Inf";

    private static string Format(string boundColumn, Func<IoOperation, Histogram> histogramOf)
    {
        string[] header = [boundColumn, .. IoOperations.All.Select(IoOperations.NameOf)];
        var rows = new List<string[]> { header };
        Histogram[] histograms = IoOperations.All.Select(histogramOf).ToArray();
        for (int bucket = 0; bucket < Histogram.BucketCount; bucket++)
        {
            rows.Add([BoundText(bucket), .. histograms.Select(histogram => histogram[bucket].ToString(CultureInfo.InvariantCulture))]);
        }

        return Table.Format(rows);
    }
}
