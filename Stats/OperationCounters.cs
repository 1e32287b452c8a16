namespace Dmp.Stats;

/// <summary>Requests answered for one operation, the bytes they covered, and how many failed.</summary>
internal record struct OperationCounters(long Requests, long Bytes, long Errors)
{
    public static OperationCounters operator +(OperationCounters left, OperationCounters right) =>
        new(left.Requests + right.Requests, left.Bytes + right.Bytes, left.Errors + right.Errors);

    public static OperationCounters operator -(OperationCounters left, OperationCounters right) =>
        new(left.Requests - right.Requests, left.Bytes - right.Bytes, left.Errors - right.Errors);

    /// <summary>Bytes per request, rounded down, 0 when there were none (as the original module prints it).</summary>
    public readonly long AverageSize => Requests == 0 ? 0 : Bytes / Requests;
}
