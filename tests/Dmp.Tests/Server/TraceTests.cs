using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>
/// The live request trace of a running <c>dmp serve</c>, read through the host's real FUSE with <c>cat</c> and with
/// <c>dmp trace</c>: a line per request in the documented format that agrees with <c>ops</c> and the latency
/// histogram, every reader its own stream from when it opened, the command's filters and JSON, lost lines for a
/// reader that falls behind, and the ways a reader ends (Ctrl-C, the serve stopping).
/// </summary>
public sealed partial class TraceTests : IDisposable
{
    private const long Size = 64 << 20;

    private static readonly string[] Operations = ["read", "write", "write_zeroes", "discard", "flush", "cache"];

    private readonly ServeProcess _server = new("memory --size 64M", withRunDirectory: true);

    private string Module => Path.Combine(_server.RunDirectory, "module");

    private string ModuleTrace => Path.Combine(Module, "stat/trace");

    private string DeviceTrace => Path.Combine(Module, "devices/export0/trace");

    public void Dispose() => _server.Dispose();

    [Fact]
    public void After_a_known_fio_job_the_trace_has_one_well_formed_line_per_request_that_ops_counts()
    {
        using ReaderProcess reader = ReaderProcess.Cat(ModuleTrace);
        decimal started = Now();
        ShellResult fio = Shell.Run(
            $"fio --name=known --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randrw --bs=4k --iodepth=16 --size=64M " +
            "--number_ios=3000 --output=/dev/null");
        decimal ended = Now();
        Assert.Equal((0, ""), (fio.ExitCode, fio.Errors));
        Dictionary<string, long[]> ops = Rows("ops");
        long total = ops.Values.Sum(row => row[0]);
        Assert.Equal(3000, ops["read"][0] + ops["write"][0]);

        reader.WaitForLines((int)total);
        Thread.Sleep(200);
        IReadOnlyList<string> lines = reader.Lines;

        Assert.Equal(total, lines.Count); // and no more
        TracedRequest[] entries = [.. lines.Select(TracedRequest.Parse)];
        Dictionary<string, long[]> latency = Rows("latency");
        foreach (string operation in Operations)
        {
            TracedRequest[] ofOperation = [.. entries.Where(entry => entry.Operation == operation)];
            Assert.Equal(ops[operation][0], ofOperation.Length);
            Assert.Equal(ops[operation][1], ofOperation.Sum(entry => entry.Length));
            long microseconds = ops[operation][4]; // the whole service time, truncated once; each line's is truncated
            Assert.InRange(ofOperation.Sum(entry => entry.LatencyMicroseconds), microseconds - ofOperation.Length, microseconds);
            int column = Array.IndexOf(Operations, operation);
            foreach ((string bound, long[] counts) in latency)
            {
                long upper = bound == "+Inf" ? long.MaxValue : long.Parse(bound, CultureInfo.InvariantCulture);
                long lower = latency.Keys.Select(other => other == "+Inf" ? long.MaxValue : long.Parse(other, CultureInfo.InvariantCulture))
                    .Where(other => other < upper).DefaultIfEmpty(-1).Max();
                Assert.Equal(counts[column], ofOperation.Count(entry => entry.LatencyMicroseconds > lower && entry.LatencyMicroseconds <= upper));
            }
        }

        foreach (TracedRequest entry in entries)
        {
            Assert.InRange(entry.Time, started - 1, ended + 1);
            Assert.Equal(("export0", "-", "0", "-"), (entry.Device, entry.Flags, entry.Result, entry.Rule));
            Assert.Equal((0L, 4096L), (entry.Offset % 4096, entry.Length));
            Assert.InRange(entry.Offset + entry.Length, 4096, Size);
            Assert.InRange(entry.LatencyMicroseconds, 0, (long)((ended - started) * 1_000_000));
        }

        // One connection's replies go out one after another: its lines come in the order of their times.
        foreach (IGrouping<int, TracedRequest> connection in entries.GroupBy(entry => entry.Connection))
        {
            decimal[] times = [.. connection.Select(entry => entry.Time)];
            Assert.Equal(times.Order(), times);
        }
    }

    [Fact]
    public void Each_field_shows_what_the_request_was_and_how_it_was_answered()
    {
        using ReaderProcess reader = ReaderProcess.Cat(DeviceTrace);
        Assert.Equal(0, DmpBinary.Run($"--run-dir {_server.RunDirectory} fault add export0 op=read count=1 error=EROFS").ExitCode);
        using RawNbdClient first = RawNbdClient.Transmitting(_server.Socket, "export0");
        using RawNbdClient second = RawNbdClient.Transmitting(_server.Socket, "export0");

        Assert.Equal(0u, first.Write(1 << 20, new byte[4096], NbdCommandFlags.ForceUnitAccess));
        first.SendRequest(NbdCommand.WriteZeroes, 8192, 512, NbdCommandFlags.ForceUnitAccess | NbdCommandFlags.NoHole);
        Assert.Equal(0u, first.ReceiveReply());
        first.SendRequest(NbdCommand.WriteZeroes, 8192, 512, NbdCommandFlags.NoHole | NbdCommandFlags.FastZero);
        string fastZero = first.ReceiveReply() switch { 0 => "0", Enotsup => "EOPNOTSUPP", uint other => $"error {other}" }; // may it be fast? the store says
        Assert.Equal(0u, first.Send(NbdCommand.Trim, 0, 65536));
        Assert.Equal(0u, first.Send(NbdCommand.Cache, 4096, 4096));
        Assert.Equal(0u, first.Send(NbdCommand.Flush));
        Assert.Equal(Einval, first.Read((ulong)Size, 512).Error); // invalid: its own error, never a rule's
        Assert.Equal(Eperm, second.Read(0, 512).Error); // EROFS, as NBD says it
        Assert.Equal(0u, second.Read(0, 512).Error);

        string[] expected =
        [
            "export0 0 write 1048576 4096 FUA 0 -",
            "export0 0 write_zeroes 8192 512 FUA,NO_HOLE 0 -",
            $"export0 0 write_zeroes 8192 512 NO_HOLE,FAST_ZERO {fastZero} -",
            "export0 0 discard 0 65536 - 0 -",
            "export0 0 cache 4096 4096 - 0 -",
            "export0 0 flush 0 0 - 0 -",
            $"export0 0 read {Size} 512 - EINVAL -",
            "export0 1 read 0 512 - EPERM 1",
            "export0 1 read 0 512 - 0 -",
        ];
        IReadOnlyList<string> lines = reader.WaitForLines(expected.Length);
        Assert.Equal(expected, lines.Select(line => TracedRequest.Parse(line)).Select(entry =>
            $"{entry.Device} {entry.Connection} {entry.Operation} {entry.Offset} {entry.Length} {entry.Flags} {entry.Result} {entry.Rule}"));
    }

    [Fact]
    public void Readers_at_once_each_get_every_line_and_a_reader_opened_later_only_later_requests()
    {
        string dmp = DmpBinary.Path;
        using ReaderProcess first = ReaderProcess.Cat(ModuleTrace);
        using ReaderProcess second = ReaderProcess.Cat(ModuleTrace);
        using var third = new ReaderProcess(dmp, ["--run-dir", _server.RunDirectory, "trace"], ModuleTrace);
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(0u, client.Write((ulong)i * 4096, new byte[4096]));
        }

        first.WaitForLines(20);
        using ReaderProcess later = ReaderProcess.Cat(DeviceTrace);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(0u, client.Read((ulong)(100 + i) * 4096, 4096).Error);
        }

        first.WaitForLines(40);
        second.WaitForLines(40);
        third.WaitForLines(40);
        later.WaitForLines(20);
        Thread.Sleep(200);

        string[] requests = [.. first.Lines.Select(line => TracedRequest.Parse(line)).Select(entry => $"{entry.Operation} {entry.Offset / 4096}")];
        Assert.Equal(
            [.. Enumerable.Range(0, 20).Select(i => $"write {i}"), .. Enumerable.Range(100, 20).Select(i => $"read {i}")],
            requests);
        Assert.Equal(first.Lines, second.Lines);
        Assert.Equal(first.Lines, third.Lines);
        Assert.Equal(first.Lines.Skip(20), later.Lines);
    }

    private static decimal Now() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (decimal)TimeSpan.TicksPerSecond;

    [GeneratedRegex(@"^# lost ([1-9][0-9]*) lines$")]
    private static partial Regex LostLine();

    /// <summary>A table of export0's (<c>ops</c>, <c>latency</c>): its first column to the numbers after it.</summary>
    private Dictionary<string, long[]> Rows(string file) =>
        File.ReadAllLines(Path.Combine(Module, "devices/export0", file)).Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => fields[0], fields => fields[1..].Select(long.Parse).ToArray());
}
