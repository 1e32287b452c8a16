using System.Text;

namespace Dmp.Stats;

/// <summary>The text of <c>stat/volumes</c>, exactly as the original module prints it.</summary>
internal static class VolumesReport
{
    public static string Format(IoCounters counters)
    {
        var text = new StringBuilder();
        foreach ((string name, OperationCounters group) in Groups(counters))
        {
            text.Append(name).Append(":\n")
                .Append(" reqs: ").Append(group.Requests).Append('\n')
                .Append(" avg size: ").Append(group.AverageSize).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The original's three groups: read, write (as the block layer counts writes), and their total.</summary>
    public static IEnumerable<(string Name, OperationCounters Counters)> Groups(IoCounters counters)
    {
        OperationCounters reads = counters[IoOperation.Read];
        OperationCounters writes = counters.Writes;
        return [("read", reads), ("write", writes), ("total", reads + writes)];
    }
}
