using System.Text;

namespace Dmp.Stats;

/// <summary>The text of <c>stat/volumes</c>, exactly as the original module prints it.</summary>
internal static class VolumesReport
{
    public static string Format(IoCounters counters)
    {
        OperationCounters reads = counters[IoOperation.Read];
        OperationCounters writes = counters.Writes;
        var text = new StringBuilder();
        AppendGroup(text, "read", reads);
        AppendGroup(text, "write", writes);
        AppendGroup(text, "total", reads + writes);
        return text.ToString();
    }

    private static void AppendGroup(StringBuilder text, string name, OperationCounters counters) =>
        text.Append(name).Append(":\n")
            .Append(" reqs: ").Append(counters.Requests).Append('\n')
            .Append(" avg size: ").Append(counters.AverageSize).Append('\n');
}
