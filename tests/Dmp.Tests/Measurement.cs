namespace Dmp.Tests;

/// <summary>Tests that measure the whole process (allocations, timing) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Measurement
{
    public const string Name = "Measurement";
}
