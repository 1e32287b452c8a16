using System.Text.Json;

namespace Dmp.Stats;

/// <summary>Snapshots to JSON and back.</summary>
internal static class StatisticsJson
{
    public static string Format(string? device, IoCounters counters) =>
        JsonSerializer.Serialize(Document(device, counters), StatisticsJsonContext.Default.StatisticsDocument) + "\n";

    /// <exception cref="JsonException">The text is not a statistics document.</exception>
    public static StatisticsDocument Parse(string json) =>
        JsonSerializer.Deserialize(json, StatisticsJsonContext.Default.StatisticsDocument) ?? throw new JsonException("an empty statistics document");

    public static StatisticsDocument Document(string? device, IoCounters counters)
    {
        Dictionary<string, VolumeDocument> volumes = VolumesReport.Groups(counters)
            .ToDictionary(group => group.Name, group => new VolumeDocument(group.Counters.Requests, group.Counters.AverageSize));
        var operations = IoOperations.All.ToDictionary(
            IoOperations.NameOf,
            operation => new OperationDocument(
                counters[operation].Requests, counters[operation].Bytes, counters[operation].Errors, counters.InFlight(operation),
                counters.Nanoseconds(operation) / 1000, Buckets(counters.Latency(operation)), Buckets(counters.Sizes(operation))));
        return new StatisticsDocument(device, volumes, operations);
    }

    private static Dictionary<string, long> Buckets(Histogram histogram)
    {
        var buckets = new Dictionary<string, long>();
        for (int bucket = 0; bucket < Histogram.BucketCount; bucket++)
        {
            buckets[HistogramReport.BoundText(bucket)] = histogram[bucket];
        }

        return buckets;
    }
}
