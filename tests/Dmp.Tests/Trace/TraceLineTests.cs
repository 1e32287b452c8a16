using System.Diagnostics;
using System.Text;
using Dmp.Nbd;
using Dmp.Stats;
using Dmp.Trace;

namespace Dmp.Tests.Trace;

public sealed class TraceLineTests
{
    [Fact]
    public void A_record_is_one_line_of_ten_fields_that_reads_back_as_it_was()
    {
        var record = new TraceRecord
        {
            CompletedAt = Stopwatch.GetTimestamp(),
            Offset = 1 << 20,
            ServiceNanoseconds = 52_700,
            Device = "nbd0",
            Length = 4096,
            Error = 5,
            Connection = 1,
            Rule = 3,
            Operation = IoOperation.Write,
            Flags = NbdCommandFlags.ForceUnitAccess,
        };
        decimal now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10_000_000m;

        string line = Format(record);

        Assert.Matches(@"^\d{10}\.\d{6} nbd0 1 write 1048576 4096 FUA 52 EIO 3\n$", line);
        TraceEntry entry = TraceLine.Parse(line.TrimEnd('\n'))!;
        Assert.InRange(entry.Time, now - 1, now + 1);
        Assert.Equal(("nbd0", 1, "write", 1L << 20, 4096u, "FUA", 52L, "EIO", (int?)3), (
            entry.Device, entry.Connection, entry.Operation, entry.Offset, entry.Length, string.Join(',', entry.Flags),
            entry.LatencyMicroseconds, entry.Result, entry.Rule));
    }

    [Theory]
    [InlineData(0, 0, 0, "- 0 0 -")]
    [InlineData((int)(NbdCommandFlags.NoHole | NbdCommandFlags.FastZero), 0, 0, "NO_HOLE,FAST_ZERO 0 0 -")]
    [InlineData((int)NbdCommandFlags.ForceUnitAccess | 0x100, 28, 12, "FUA,0x100 0 ENOSPC 12")]
    [InlineData(0x200, 1, 0, "0x200 0 EPERM -")]
    public void Flags_results_and_rules_are_named_or_dashed(int flags, int error, int rule, string tail)
    {
        string line = Format(new TraceRecord { Device = "export0", Operation = IoOperation.Flush, Flags = (NbdCommandFlags)flags, Error = error, Rule = rule });

        Assert.EndsWith($" export0 0 flush 0 0 {tail}\n", line, StringComparison.Ordinal);
        Assert.NotNull(TraceLine.Parse(line.TrimEnd('\n')));
    }

    [Fact]
    public void Lost_lines_are_told_by_a_line_of_their_own()
    {
        byte[] buffer = new byte[TraceLine.MaxLength];
        string line = Encoding.UTF8.GetString(buffer, 0, TraceLine.FormatLost(1234, buffer));

        Assert.Equal("# lost 1234 lines\n", line);
        Assert.Equal(1234, TraceLine.ParseLost(line.TrimEnd('\n')));
        Assert.Null(TraceLine.Parse(line.TrimEnd('\n')));
        Assert.Null(TraceLine.ParseLost("1764748835.123456 nbd0 1 write 0 4096 - 52 0 -"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1764748835.123456 nbd0 1 write 0 4096 - 52 0")]
    [InlineData("1764748835.123456 nbd0 one write 0 4096 - 52 0 -")]
    [InlineData("yesterday nbd0 1 write 0 4096 - 52 0 -")]
    [InlineData("1764748835.123456 nbd0 1 write 0 4096 - 52 0 x")]
    public void Text_that_is_not_a_trace_line_is_not_read_as_one(string line) => Assert.Null(TraceLine.Parse(line));

    private static string Format(in TraceRecord record)
    {
        byte[] buffer = new byte[TraceLine.MaxLength];
        return Encoding.UTF8.GetString(buffer, 0, TraceLine.Format(record, buffer));
    }
}
