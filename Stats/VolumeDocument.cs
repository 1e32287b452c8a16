namespace Dmp.Stats;

/// <summary>A group of <c>volumes</c>: requests and their average size in bytes.</summary>
internal sealed record VolumeDocument(long Requests, long AverageSize);
