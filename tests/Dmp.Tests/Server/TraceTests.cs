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

    [Fact]
    public void A_device_s_trace_and_dmp_trace_device_show_that_device_alone()
    {
        using var server = new ServeProcess("memory memory --size 1M", withRunDirectory: true);
        string module = Path.Combine(server.RunDirectory, "module");
        using ReaderProcess all = ReaderProcess.Cat(Path.Combine(module, "stat/trace"));
        using ReaderProcess device = ReaderProcess.Cat(Path.Combine(module, "devices/export1/trace"));
        using var command = new ReaderProcess(
            DmpBinary.Path, ["--run-dir", server.RunDirectory, "trace", "--device", "export1", "--count", "3"], Path.Combine(module, "devices/export1/trace"));
        using RawNbdClient zero = RawNbdClient.Transmitting(server.Socket, "export0");
        using RawNbdClient one = RawNbdClient.Transmitting(server.Socket, "export1");

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0u, zero.Write((ulong)i * 512, new byte[512]));
            Assert.Equal(0u, one.Write((ulong)i * 512, new byte[512]));
        }

        Assert.True(command.WaitForExit(TimeSpan.FromSeconds(10)));
        all.WaitForLines(6);
        device.WaitForLines(3);
        Thread.Sleep(200);
        Assert.Equal(["export0", "export1", "export0", "export1", "export0", "export1"], all.Lines.Select(line => TracedRequest.Parse(line).Device));
        Assert.Equal(all.Lines.Where((_, index) => index % 2 == 1), device.Lines);
        Assert.Equal((0, ""), (command.ExitCode, command.Errors));
        Assert.Equal(device.Lines, command.Lines);
    }

    [Fact]
    public void Json_gives_an_object_per_request_with_the_documented_fields()
    {
        Assert.Equal(0, DmpBinary.Run($"--run-dir {_server.RunDirectory} fault add export0 op=write offset=1M length=4K error=EIO").ExitCode);
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", "--json", "--count", "4"], ModuleTrace);
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");
        decimal started = Now();

        Assert.Equal(0u, client.Write(0, new byte[4096], NbdCommandFlags.ForceUnitAccess));
        Assert.Equal(Eio, client.Write(1 << 20, new byte[512]));
        Assert.Equal(0u, client.Read(512, 1024).Error);
        Assert.Equal(0u, client.Send(NbdCommand.Flush));

        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(10)));
        decimal ended = Now();
        Assert.Equal((0, ""), (trace.ExitCode, trace.Errors));
        string[] expected =
        [
            """{"device":"export0","connection":0,"op":"write","offset":0,"length":4096,"flags":["FUA"],"result":"0","rule":null}""",
            """{"device":"export0","connection":0,"op":"write","offset":1048576,"length":512,"flags":[],"result":"EIO","rule":1}""",
            """{"device":"export0","connection":0,"op":"read","offset":512,"length":1024,"flags":[],"result":"0","rule":null}""",
            """{"device":"export0","connection":0,"op":"flush","offset":0,"length":0,"flags":[],"result":"0","rule":null}""",
        ];
        Assert.Equal(expected.Length, trace.Lines.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            using JsonDocument line = JsonDocument.Parse(trace.Lines[i]);
            JsonElement entry = line.RootElement;
            Assert.Equal(
                ["time", "device", "connection", "op", "offset", "length", "flags", "latency_us", "result", "rule"],
                entry.EnumerateObject().Select(property => property.Name));
            Assert.InRange(entry.GetProperty("time").GetDecimal(), started - 1, ended + 1);
            Assert.InRange(entry.GetProperty("latency_us").GetInt64(), 0, (long)((ended - started) * 1_000_000));
            string withoutTimes = "{" + string.Join(',', entry.EnumerateObject()
                .Where(property => property.Name is not ("time" or "latency_us"))
                .Select(property => $"\"{property.Name}\":{property.Value.GetRawText()}")) + "}";
            Assert.Equal(expected[i], withoutTimes);
        }
    }

    [Theory]
    [InlineData("--count")]
    [InlineData("-n")]
    public void Count_prints_that_many_lines_and_exits_0(string option)
    {
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", option, "7"], ModuleTrace);
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(0u, client.Write((ulong)i * 4096, new byte[4096]));
        }

        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal((0, ""), (trace.ExitCode, trace.Errors));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => i * 4096L), trace.Lines.Select(line => TracedRequest.Parse(line).Offset));
    }

    [Theory]
    [InlineData("--op write --count 5", "write write write write write")]
    [InlineData("--op read --op flush --count 6", "read read read read read flush")]
    [InlineData("--op discard --op cache --count 2", "discard cache")]
    public void Op_prints_only_those_operations(string options, string expected)
    {
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", .. options.Split(' ')], ModuleTrace);
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0u, client.Read((ulong)i * 4096, 4096).Error);
            Assert.Equal(0u, client.Write((ulong)i * 4096, new byte[4096]));
        }

        Assert.Equal(0u, client.Send(NbdCommand.Flush));
        Assert.Equal(0u, client.Send(NbdCommand.Trim, 0, 4096));
        Assert.Equal(0u, client.Send(NbdCommand.Cache, 0, 4096));

        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal((0, ""), (trace.ExitCode, trace.Errors));
        Assert.Equal(expected, string.Join(' ', trace.Lines.Select(line => TracedRequest.Parse(line).Operation)));
    }

    [Fact]
    public void Min_latency_prints_only_requests_that_took_at_least_that_long()
    {
        Assert.Equal(0, DmpBinary.Run($"--run-dir {_server.RunDirectory} fault add export0 offset=1M length=4K delay=200ms").ExitCode);
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", "--min-latency", "150000", "--count", "3"], ModuleTrace);
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0u, client.Write(0, new byte[4096]));
            Assert.Equal(0u, client.Write(1 << 20, new byte[4096]));
            Assert.Equal(0u, client.Read(0, 4096).Error);
        }

        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal((0, ""), (trace.ExitCode, trace.Errors));
        TracedRequest[] slow = [.. trace.Lines.Select(TracedRequest.Parse)];
        Assert.Equal(3, slow.Length);
        Assert.All(slow, entry => Assert.Equal(("write", 1L << 20, "1"), (entry.Operation, entry.Offset, entry.Rule)));
        Assert.All(slow, entry => Assert.InRange(entry.LatencyMicroseconds, 200_000, 10_000_000));
    }

    [Fact]
    public async Task A_reader_that_reads_nothing_loses_lines_and_is_told_how_many()
    {
        using var stalled = new FileStream(DeviceTrace, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        ShellResult fio = Shell.Run(
            $"fio --name=big --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randread --bs=4k --iodepth=32 --size=64M " +
            "--loops=3 --output=/dev/null");
        Assert.Equal((0, ""), (fio.ExitCode, fio.Errors));
        long total = Rows("ops").Values.Sum(row => row[0]);

        var lines = new List<string>();
        long lost = 0;
        Task reading = Task.Run(() =>
        {
            using var text = new StreamReader(stalled, Encoding.UTF8);
            while (text.ReadLine() is string line)
            {
                lock (lines)
                {
                    lines.Add(line);
                    lost += LostLine().Match(line) is { Success: true } notice ? long.Parse(notice.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                    if (lines.Count - 1 + lost >= total)
                    {
                        return;
                    }
                }
            }
        });

        Task done = await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(done == reading, $"{lines.Count} lines came, {lost} lost, of {total}");
        Assert.Matches(LostLine(), lines[0]);
        Assert.True(lost > 0, lines[0]);
        Assert.Equal(total, lost + lines.Count - 1);
        Assert.All(lines.Skip(1), line => TracedRequest.Parse(line));
    }

    [Fact]
    public void A_stopped_dmp_trace_json_is_told_in_an_object_how_many_lines_it_lost()
    {
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", "--json"], ModuleTrace);
        Assert.Equal(0, Shell.Run($"kill -STOP {trace.Id}").ExitCode);
        try
        {
            ShellResult fio = Shell.Run(
                $"fio --name=big --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randwrite --bs=4k --iodepth=32 --size=64M " +
                "--loops=3 --output=/dev/null");
            Assert.Equal((0, ""), (fio.ExitCode, fio.Errors));
        }
        finally
        {
            Shell.Run($"kill -CONT {trace.Id}");
        }

        long total = Rows("ops").Values.Sum(row => row[0]);
        var clock = Stopwatch.StartNew();
        long requests;
        long lost;
        do
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the lines did not come");
            Thread.Sleep(50);
            JsonElement[] objects = [.. trace.Lines.Select(line => JsonDocument.Parse(line).RootElement)];
            lost = objects.Where(entry => entry.TryGetProperty("lost", out _)).Sum(entry => entry.GetProperty("lost").GetInt64());
            requests = objects.Count(entry => entry.TryGetProperty("op", out _));
            Assert.All(objects, entry => Assert.Equal(entry.TryGetProperty("lost", out _) ? 1 : 10, entry.EnumerateObject().Count()));
        }
        while (requests + lost < total);

        Assert.True(lost > 0, "nothing was lost");
        Assert.Equal(total, requests + lost);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--device export0")]
    public void Ctrl_c_ends_a_dmp_trace_blocked_on_an_idle_device_within_a_second(string options)
    {
        string file = options.Length == 0 ? ModuleTrace : DeviceTrace;
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", .. options.Split(' ', StringSplitOptions.RemoveEmptyEntries)], file);
        Thread.Sleep(300);
        Assert.False(trace.HasExited);

        trace.Interrupt();

        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(1)), "still running a second after Ctrl-C");
        Assert.Equal("", trace.Errors);
        Assert.Contains(trace.ExitCode, new[] { 0, 128 + 2 }); // done, or ended by SIGINT as Ctrl-C ends a program
        Assert.Equal("live\n", File.ReadAllText(Path.Combine(Module, "initstate"))); // the tree serves on
    }

    [Fact]
    public void Readers_blocked_on_the_trace_get_end_of_file_when_the_serve_stops()
    {
        using ReaderProcess cat = ReaderProcess.Cat(ModuleTrace);
        using var trace = new ReaderProcess(DmpBinary.Path, ["--run-dir", _server.RunDirectory, "trace", "--device", "export0"], DeviceTrace);
        Thread.Sleep(300);

        Assert.Equal(0, _server.Stop());

        Assert.True(cat.WaitForExit(TimeSpan.FromSeconds(5)), "cat still blocked after the serve stopped");
        Assert.True(trace.WaitForExit(TimeSpan.FromSeconds(5)), "dmp trace still blocked after the serve stopped");
        Assert.Equal((0, "", 0, ""), (cat.ExitCode, cat.Errors, trace.ExitCode, trace.Errors));
    }

    [Fact]
    public void Trace_of_a_device_dmp_does_not_serve_is_refused_in_one_line()
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_server.RunDirectory} trace --device nothing");

        Assert.Equal((1, ""), (result.ExitCode, result.Output));
        Assert.Equal("dmp: no such device: nothing\n", result.Errors);
    }

    private static decimal Now() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (decimal)TimeSpan.TicksPerSecond;

    [GeneratedRegex(@"^# lost ([1-9][0-9]*) lines$")]
    private static partial Regex LostLine();

    /// <summary>A table of export0's (<c>ops</c>, <c>latency</c>): its first column to the numbers after it.</summary>
    private Dictionary<string, long[]> Rows(string file) =>
        File.ReadAllLines(Path.Combine(Module, "devices/export0", file)).Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => fields[0], fields => fields[1..].Select(long.Parse).ToArray());
}
