using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>dmp trace: a device alone, JSON, and the count, operation and latency filters, and a device dmp does not serve.</summary>
public sealed partial class TraceTests
{
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
    public void Trace_of_a_device_dmp_does_not_serve_is_refused_in_one_line()
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_server.RunDirectory} trace --device nothing");

        Assert.Equal((1, ""), (result.ExitCode, result.Output));
        Assert.Equal("dmp: no such device: nothing\n", result.Errors);
    }
}
