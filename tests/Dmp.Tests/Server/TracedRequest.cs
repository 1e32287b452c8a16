using System.Globalization;
using System.Text.RegularExpressions;

namespace Dmp.Tests.Server;

/// <summary>
/// A trace line read back as the README documents it, ten fields separated by single spaces:
/// <c>TIME DEVICE CONNECTION OPERATION OFFSET LENGTH FLAGS LATENCY_US RESULT RULE</c>.
/// </summary>
internal sealed partial record TracedRequest(
    decimal Time, string Device, int Connection, string Operation, long Offset, long Length, string Flags, long LatencyMicroseconds, string Result, string Rule)
{
    /// <summary>Reads a line, failing the test when it is not exactly in the documented format.</summary>
    public static TracedRequest Parse(string line)
    {
        Assert.Equal(10, line.Split(' ').Length);
        Match match = Format().Match(line);
        Assert.True(match.Success, $"not a trace line: '{line}'");
        string Field(int index) => match.Groups[index].Value;
        return new TracedRequest(
            decimal.Parse(Field(1), CultureInfo.InvariantCulture), Field(2), int.Parse(Field(3), CultureInfo.InvariantCulture), Field(4),
            long.Parse(Field(5), CultureInfo.InvariantCulture), long.Parse(Field(6), CultureInfo.InvariantCulture), Field(7),
            long.Parse(Field(8), CultureInfo.InvariantCulture), Field(9), Field(10));
    }

    /// <summary>Epoch seconds with microseconds, a device, a connection number, an operation as the stat files name it,
    /// offset and length in bytes, <c>-</c> or flags joined by commas, microseconds, <c>0</c> or an errno name, <c>-</c> or a rule id.</summary>
    [GeneratedRegex(@"^([0-9]{10}\.[0-9]{6}) ([a-z]+[0-9]+) (0|[1-9][0-9]*) (read|write|write_zeroes|discard|flush|cache) (0|[1-9][0-9]*) (0|[1-9][0-9]*) (-|(?:FUA|NO_HOLE|DF|REQ_ONE|FAST_ZERO|PAYLOAD_LEN)(?:,(?:FUA|NO_HOLE|DF|REQ_ONE|FAST_ZERO|PAYLOAD_LEN))*) (0|[1-9][0-9]*) (0|E[A-Z0-9]+) (-|[1-9][0-9]*)$")]
    private static partial Regex Format();
}
