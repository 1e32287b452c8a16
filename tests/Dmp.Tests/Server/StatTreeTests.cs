using System.Text.Json;

namespace Dmp.Tests.Server;

/// <summary>
/// The stat tree of a running <c>dmp serve</c>, read through the host's real FUSE with ordinary tools:
/// its files and their formats after a known workload, snapshots under load, reset scoping,
/// permissions, JSON read back, and the metrics read by Debian's Prometheus client library.
/// </summary>
public sealed class StatTreeTests : IDisposable
{
    private readonly ServeProcess _server = new("memory zero --size 64M", withRunDirectory: true);

    public StatTreeTests() => File.SetUnixFileMode(_server.RunDirectory, (UnixFileMode)0x1ed);

    private string Module => Path.Combine(_server.RunDirectory, "module");

    public void Dispose() => _server.Dispose();

    [Fact]
    public void The_module_directory_mirrors_sys_module()
    {
        Assert.Equal("live\n", Read("initstate"));
        Assert.Equal("0\n", Read("refcnt"));
        Assert.Equal("", Shell.Run($"ls {Module}/holders").Output);
        Assert.Equal("memory\nzero\n", Read("parameters/backing"));
        Assert.Equal("67108864\n", Read("parameters/size"));
        Assert.Equal($"unix:{_server.Socket}\n", Read("parameters/listen"));
    }

    [Fact]
    public void Every_stat_file_is_readable_by_all_and_every_reset_faults_and_trace_file_is_root_s_alone()
    {
        ShellResult modes = Shell.Run($"cd {Module} && stat -c '%a %n' stat/* devices/export0/* parameters/* initstate refcnt");

        foreach (string line in modes.Output.TrimEnd().Split('\n'))
        {
            string expected = line.Split(' ')[1].Split('/')[^1] switch
            {
                "reset" => "200",
                "faults" => "600",
                "trace" => "400",
                _ => "444",
            };
            Assert.Equal(expected, line.Split(' ')[0]);
        }

        ShellResult readAll = Shell.Run($"cd {Module} && find . -type f -perm -0004 -exec cat {{}} + > /dev/null", Shell.Nobody);
        Assert.Equal((0, ""), (readAll.ExitCode, readAll.Errors));
        foreach (string reset in new[] { "stat/reset", "devices/export0/reset", "devices/export0/faults" })
        {
            ShellResult refused = Shell.Run($"echo 1 > {Module}/{reset}", Shell.Nobody);
            Assert.Contains("Permission denied", refused.Errors);
        }

        foreach (string rootOnly in new[] { "stat/trace", "devices/export0/trace", "devices/export0/faults" })
        {
            Assert.Contains("Permission denied", Shell.Run($"cat {Module}/{rootOnly}", Shell.Nobody).Errors);
        }
    }

    [Fact]
    public void A_known_workload_shows_in_every_file_exactly()
    {
        RunKnownWorkload();

        Assert.Equal(
            "operation    requests bytes errors in_flight time_us\n",
            Read("devices/export0/ops").Split('\n')[0] + "\n");
        string[] ops = Read("devices/export0/ops").Split('\n');
        Assert.Equal(["read", "5", "20480", "0", "0"], ops[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5]);
        Assert.Equal(["write", "3", "1536", "1", "0"], ops[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5]);
        Assert.Equal(["flush", "1", "0", "0", "0"], ops[5].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..5]);

        Dictionary<string, string[]> sizes = Rows(Read("devices/export0/sizes"));
        Assert.Equal(["5", "0"], sizes["4096"][..2]);
        Assert.Equal(["0", "3"], sizes["512"][..2]);
        Assert.Equal("1", sizes["1"][4]); // the flush, of 0 bytes
        Dictionary<string, string[]> latency = Rows(Read("devices/export0/latency"));
        Assert.Equal(5, latency.Values.Sum(row => int.Parse(row[0])));
        Assert.Equal(3, latency.Values.Sum(row => int.Parse(row[1])));

        Assert.Equal(Read("devices/export0/volumes"), Read("stat/volumes"));
        Assert.Equal("read:\n reqs: 0\n avg size: 0\nwrite:\n reqs: 0\n avg size: 0\ntotal:\n reqs: 0\n avg size: 0\n", Read("devices/export1/volumes"));
    }

    [Fact]
    public void The_json_reads_back_to_the_same_numbers()
    {
        RunKnownWorkload();

        using JsonDocument json = JsonDocument.Parse(Shell.Run($"{Cli.DmpBinary.Path} stat --run-dir {_server.RunDirectory} --device export0 --json").Output);
        JsonElement root = json.RootElement;
        Assert.Equal("export0", root.GetProperty("device").GetString());
        Assert.Equal(8, root.GetProperty("volumes").GetProperty("total").GetProperty("requests").GetInt64());
        JsonElement read = root.GetProperty("operations").GetProperty("read");
        Assert.Equal((5, 20480, 0), (read.GetProperty("requests").GetInt64(), read.GetProperty("bytes").GetInt64(), read.GetProperty("errors").GetInt64()));
        Assert.Equal(5, read.GetProperty("sizes").GetProperty("4096").GetInt64());
        Assert.Equal(5, read.GetProperty("latency_us").EnumerateObject().Sum(bucket => bucket.Value.GetInt64()));
        Assert.Equal(1, root.GetProperty("operations").GetProperty("write").GetProperty("errors").GetInt64());
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(Read("stat/json")).RootElement.GetProperty("device").ValueKind);
    }

    [Fact]
    public void The_metrics_parse_with_the_prometheus_client_library_and_agree()
    {
        RunKnownWorkload();

        string[] samples = PrometheusText.Samples($"{Module}/stat/metrics");

        Assert.Contains("counter dmp_requests_total export0 read - 5.0", samples);
        Assert.Contains("counter dmp_bytes_total export0 read - 20480.0", samples);
        Assert.Contains("counter dmp_errors_total export0 write - 1.0", samples);
        Assert.Contains("gauge dmp_in_flight export0 read - 0.0", samples);
        Assert.Contains("histogram dmp_request_size_bytes_bucket export0 read 4096 5.0", samples);
        Assert.Contains("histogram dmp_request_size_bytes_bucket export0 read 2048 0.0", samples);
        Assert.Contains("histogram dmp_request_duration_seconds_bucket export0 read +Inf 5.0", samples);
        Assert.Contains(samples, sample => sample.StartsWith("histogram dmp_request_duration_seconds_bucket export0 read 1e-06 ", StringComparison.Ordinal));
        Assert.Contains("histogram dmp_request_duration_seconds_count export0 read - 5.0", samples);
        Assert.Contains("counter dmp_requests_total export1 read - 0.0", samples);
        string allocated = Assert.Single(samples, sample => sample.StartsWith("counter dmp_allocated_bytes_total None None - ", StringComparison.Ordinal));
        Assert.True(double.Parse(allocated.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) > 0, allocated);
    }

    [Fact]
    public void A_device_reset_leaves_the_others_alone_and_the_module_reset_zeroes_all()
    {
        RunKnownWorkload();
        RunKnownWorkload("export1");

        Assert.Equal(0, Shell.Run($"echo 1 > {Module}/devices/export1/reset").ExitCode);
        Assert.Contains("reqs: 0", Read("devices/export1/volumes"));
        Assert.Contains("reqs: 5", Read("devices/export0/volumes"));
        Assert.Contains("reqs: 5", Read("stat/volumes"));

        Assert.Contains("Invalid argument", Shell.Run($"echo 2 > {Module}/devices/export0/reset").Errors);
        Assert.Contains("reqs: 5", Read("devices/export0/volumes"));

        Assert.Equal(0, Shell.Run($"echo 1 > {Module}/stat/reset").ExitCode);
        Assert.DoesNotContain("reqs: 5", Read("devices/export0/volumes"));
        Assert.DoesNotContain("reqs: 5", Read("stat/volumes"));
    }

    [Fact]
    public void Clear_prints_and_resets_in_one_step()
    {
        RunKnownWorkload();
        string dmp = $"{Cli.DmpBinary.Path} stat --run-dir {_server.RunDirectory}";

        ShellResult cleared = Shell.Run($"{dmp} --clear --device export0");
        ShellResult after = Shell.Run($"{dmp} --device export0");

        Assert.Equal("read:\n reqs: 5\n avg size: 4096\nwrite:\n reqs: 3\n avg size: 512\ntotal:\n reqs: 8\n avg size: 2752\n", cleared.Output);
        Assert.Contains("reqs: 0", after.Output);
        ShellResult refused = Shell.Run($"{dmp} --clear", Shell.Nobody);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Permission denied (only the daemon's owner may ask this)", refused.Errors);
    }

    [Fact]
    public async Task Every_read_is_one_consistent_snapshot_while_requests_run()
    {
        using var stop = new CancellationTokenSource();
        Task load = Task.Run(() => Shell.Run(
            $"fio --name=load --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randrw --bsrange=512-64k --iodepth=16 --numjobs=2 " +
            "--size=32M --time_based --runtime=3 --output=/dev/null"));
        Task[] readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!load.IsCompleted)
            {
                AssertConsistent(Read("stat/volumes"));
                using JsonDocument json = JsonDocument.Parse(Read("devices/export0/json"));
                foreach (JsonProperty operation in json.RootElement.GetProperty("operations").EnumerateObject())
                {
                    long requests = operation.Value.GetProperty("requests").GetInt64();
                    Assert.Equal(requests, operation.Value.GetProperty("sizes").EnumerateObject().Sum(bucket => bucket.Value.GetInt64()));
                    Assert.Equal(requests, operation.Value.GetProperty("latency_us").EnumerateObject().Sum(bucket => bucket.Value.GetInt64()));
                }
            }
        })).ToArray();

        await Task.WhenAll([load, .. readers]);
        AssertConsistent(Read("stat/volumes"));
    }

    [Fact]
    public void Watch_prints_a_row_per_device_per_interval_and_ends_cleanly_on_ctrl_c()
    {
        // Ctrl-C once two intervals are out (the handler is in place before the first): a fixed delay was too
        // short on a busy machine, where the signal came before the program had its handler.
        using var watch = new ReaderProcess(Cli.DmpBinary.Path, ["stat", "--run-dir", _server.RunDirectory, "--watch", "0.3"], opens: null);
        const int LinesPerInterval = 4; // the time, the header, export0, export1
        watch.WaitForLines(2 * LinesPerInterval);
        watch.Interrupt();

        Assert.True(watch.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal((0, ""), (watch.ExitCode, watch.Errors));
        IReadOnlyList<string> lines = watch.Lines;
        Assert.True(lines.Count(line => line.StartsWith("device ", StringComparison.Ordinal)) >= 2, string.Join('\n', lines));
        Assert.Contains(lines, line => line.StartsWith("export0 ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("export1 ", StringComparison.Ordinal));
    }

    /// <summary>Total requests equal reads plus writes, and total bytes (as averages) agree too.</summary>
    private static void AssertConsistent(string volumes)
    {
        long[] numbers = volumes.Split('\n').Where(line => line.Contains(':') && !line.EndsWith(':')).Select(line => long.Parse(line.Split(':')[1])).ToArray();
        (long reads, long readSize, long writes, long writeSize, long total, long totalSize) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5]);
        Assert.Equal(reads + writes, total);
        Assert.InRange(totalSize * total, (reads * readSize) + (writes * writeSize) - total, (reads * (readSize + 1)) + (writes * (writeSize + 1)));
    }

    private static Dictionary<string, string[]> Rows(string table) =>
        table.TrimEnd().Split('\n').Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => fields[0], fields => fields[1..]);

    private string Read(string path) => File.ReadAllText(Path.Combine(Module, path));

    /// <summary>5 reads of 4 KiB, 3 writes of 512 bytes (one out of range, so an error), and a flush.</summary>
    private void RunKnownWorkload(string export = "export0") => KnownWorkload.Run(_server.Socket, export);
}
