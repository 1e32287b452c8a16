using System.Globalization;

namespace Dmp.Stats;

/// <summary>
/// <c>stat/ops</c>: a header, then one line per operation: requests, bytes, errors, in flight now, and
/// the total service time in microseconds. Columns are space-separated, for awk and for people.
/// </summary>
internal static class OperationsReport
{
    private static readonly string[] Columns = ["operation", "requests", "bytes", "errors", "in_flight", "time_us"];

    public static string Format(IoCounters counters)
    {
        var rows = new List<string[]> { Columns };
        foreach (IoOperation operation in IoOperations.All)
        {
            OperationCounters counted = counters[operation];
            rows.Add([IoOperations.NameOf(operation), Text(counted.Requests), Text(counted.Bytes), Text(counted.Errors),
                Text(counters.InFlight(operation)), Text(counters.Nanoseconds(operation) / 1000)]);
        }

        return Table.Format(rows);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
