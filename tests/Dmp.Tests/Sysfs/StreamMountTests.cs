using System.Diagnostics;
using Dmp.Faults;
using Dmp.Stats;
using Dmp.Sysfs;
using Dmp.Tests.Trace;
using Dmp.Trace;

namespace Dmp.Tests.Sysfs;

/// <summary>The stat tree's <c>trace</c> streams and a device's <c>faults</c> file, through the host kernel's real FUSE.</summary>
public sealed class StreamMountTests : IDisposable
{
    private readonly string _mountPoint = Directory.CreateTempSubdirectory("dmp-streams-").FullName;
    private readonly ModuleStatistics _statistics = new();
    private readonly DeviceFaults _faults = new(1 << 20);
    private readonly List<string> _log = [];
    private readonly TraceHub _trace = new();
    private readonly FuseServer _server;

    public StreamMountTests()
    {
        var tree = new ModuleTree(_statistics, [], () => [], _statistics.Reset, _trace, _log.Add);
        DeviceStatistics device = _statistics.AddDevice("nbd0");
        tree.AddDevice(new DeviceFiles(device, _faults, "memory", 1 << 20, Baseline: null, Holders: null, device.Reset));
        _server = FuseServer.Mount(_mountPoint, tree.Tree, _log.Add);
    }

    private string Trace => Path.Combine(_mountPoint, "stat", "trace");

    private string Faults => Path.Combine(_mountPoint, "devices", "nbd0", "faults");

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_mountPoint);
    }

    [Fact]
    public void A_read_of_the_trace_waits_until_a_request_is_answered_and_then_returns_its_line()
    {
        using Process cat = Start($"head -n 1 {Trace}");
        WaitUntil(() => _trace.Active);
        Thread.Sleep(300);
        Assert.False(cat.HasExited, "the read waits while nothing happens");

        _trace.Publish(TraceSubscriptionTests.Record(4096));

        Assert.True(cat.WaitForExit(5000));
        Assert.Matches(@"^\d+\.\d{6} nbd0 0 read 4096 512 - 0 0 -\n$", cat.StandardOutput.ReadToEnd());
        WaitUntil(() => !_trace.Active); // closing the file ends its stream
    }

    [Fact]
    public void Each_reader_has_a_stream_of_its_own_from_the_moment_it_opened()
    {
        _trace.Publish(TraceSubscriptionTests.Record(1));
        using Process first = Start($"head -n 2 {Trace}");
        WaitUntil(() => _trace.Active);
        _trace.Publish(TraceSubscriptionTests.Record(2));
        using Process second = Start($"head -n 1 {Trace}");
        WaitUntil(() => _trace.Readers == 2);
        _trace.Publish(TraceSubscriptionTests.Record(3));

        Assert.True(first.WaitForExit(5000) && second.WaitForExit(5000));
        Assert.Equal([2L, 3L], Offsets(first.StandardOutput.ReadToEnd()));
        Assert.Equal([3L], Offsets(second.StandardOutput.ReadToEnd()));
    }

    [Fact]
    public void A_reader_waiting_on_an_idle_trace_is_let_go_by_a_signal()
    {
        var clock = Stopwatch.StartNew();
        ShellResult result = Shell.Run($"timeout -s INT 1 cat {Trace}");

        Assert.Equal(124, result.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
        WaitUntil(() => !_trace.Active);
    }

    [Fact]
    public void Readers_get_end_of_file_once_the_tree_is_unmounted()
    {
        using Process cat = Start($"cat {Trace}");
        WaitUntil(() => _trace.Active);

        _server.Dispose();

        Assert.True(cat.WaitForExit(5000), "cat ends");
        Assert.Equal(0, cat.ExitCode);
    }

    [Fact]
    public void The_faults_file_takes_rules_and_clears_and_refuses_a_bad_line_with_EINVAL()
    {
        Assert.Equal(0, Shell.Run($"echo 'op=read error=EIO' > {Faults} && echo 'delay=5ms' > {Faults}").ExitCode);
        Assert.Equal("1 op=read error=EIO fired=0\n2 op=any delay=5ms fired=0\n", Shell.Run($"cat {Faults}").Output);

        ShellResult bad = Shell.Run($"echo 'op=read error=EWHAT' > {Faults}");
        Assert.Contains("Invalid argument", bad.Errors);
        Assert.Equal(["nbd0/faults: 'op=read error=EWHAT' refused: error=EWHAT is not an errno name (EIO, ENOSPC, EPERM, ...)"], _log);
        _log.Clear();

        Assert.Equal(0, Shell.Run($"echo 'clear 1' > {Faults}").ExitCode);
        Assert.Equal("2 op=any delay=5ms fired=0\n", Shell.Run($"cat {Faults}").Output);
        Assert.Equal(0, Shell.Run($"echo clear > {Faults}").ExitCode);
        Assert.Equal("", Shell.Run($"cat {Faults}").Output);
    }

    private static Process Start(string script) => Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true })!;

    private static List<long> Offsets(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => TraceLine.Parse(line)!.Offset)];

    private static void WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "timed out");
            Thread.Sleep(10);
        }
    }
}
