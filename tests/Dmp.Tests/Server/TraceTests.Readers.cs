using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>How a reader falls behind and ends: lost lines told, Ctrl-C, end of file when the serve stops.</summary>
public sealed partial class TraceTests
{
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
}
