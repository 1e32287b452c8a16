namespace Dmp.Trace;

/// <summary>A trace line read back (<see cref="TraceLine.Parse"/>), for <c>dmp trace</c> to filter and to print as JSON.</summary>
/// <param name="Time">Seconds since the epoch, to the microsecond.</param>
/// <param name="Result">"0", or the errno name the reply carried.</param>
/// <param name="Rule">The fault rule that acted, if one did.</param>
internal sealed record TraceEntry(
    decimal Time, string Device, int Connection, string Operation, long Offset, uint Length, string[] Flags,
    long LatencyMicroseconds, string Result, int? Rule);
