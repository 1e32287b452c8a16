namespace Dmp.Fuzz;

/// <summary>Runs one input through one of dmp's parsers; an exception that escapes is a finding.</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);
