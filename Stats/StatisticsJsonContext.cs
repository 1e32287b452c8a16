using System.Text.Json.Serialization;

namespace Dmp.Stats;

/// <summary>Source-generated JSON for the statistics: no reflection, so it works under Native AOT.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(StatisticsDocument))]
internal sealed partial class StatisticsJsonContext : JsonSerializerContext;
