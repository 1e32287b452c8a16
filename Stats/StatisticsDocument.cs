namespace Dmp.Stats;

/// <summary>The JSON form of one snapshot (<c>stat/json</c>, <c>dmp stat --json</c>).</summary>
/// <param name="Device">The device it covers, or null for all of dmp.</param>
/// <param name="Volumes">The original's numbers: read, write and total, each with requests and average size.</param>
/// <param name="Operations">Per operation, by the names the stat files use.</param>
internal sealed record StatisticsDocument(
    string? Device,
    Dictionary<string, VolumeDocument> Volumes,
    Dictionary<string, OperationDocument> Operations);
