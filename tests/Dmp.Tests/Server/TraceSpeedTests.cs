using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Dmp.Tests.Server;

/// <summary>
/// A trace reader never slows IO: fio's IOPS against <c>dmp serve</c> with a reader that has stopped reading (its
/// stream full, every request's line dropped and counted) against none. Runs alone, after the parallel tests, with
/// the two kinds of run interleaved (ABBA...) so that drift in the machine's load falls on both alike.
/// </summary>
[Collection(Measurement.Name)]
public sealed class TraceSpeedTests(ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 5;

    private readonly ServeProcess _server = new("memory --size 64M", withRunDirectory: true);

    private string DeviceTrace => Path.Combine(_server.RunDirectory, "module/devices/export0/trace");

    public void Dispose() => _server.Dispose();

    [Fact]
    public void A_stalled_trace_reader_keeps_io_within_10_percent_of_its_speed_without_one()
    {
        Iops(); // warm up: the store's pages, fio's and dmp's first connection
        var without = new List<double>();
        var stalled = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            foreach (bool withReader in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                if (!withReader)
                {
                    without.Add(Iops());
                    continue;
                }

                using var reader = new FileStream(DeviceTrace, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                stalled.Add(Iops());

                // The reader was in effect: its stream filled up and the rest was lost, and it is told so first.
                byte[] start = new byte[64];
                int read = reader.Read(start);
                Assert.StartsWith("# lost ", System.Text.Encoding.ASCII.GetString(start, 0, read));
            }
        }

        double medianWithout = Median(without);
        double medianStalled = Median(stalled);
        output.WriteLine($"IOPS without a reader: {string.Join(", ", without.Select(Round))} (median {Round(medianWithout)})");
        output.WriteLine($"IOPS with a stalled reader: {string.Join(", ", stalled.Select(Round))} (median {Round(medianStalled)})");
        Assert.True(
            medianStalled >= 0.9 * medianWithout,
            $"a stalled reader: median {Round(medianStalled)} IOPS against {Round(medianWithout)} without ({medianStalled / medianWithout:P1})");
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Round(double iops) => iops.ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>4k random reads at depth 32 for two seconds: the memory job of the benchmark, shorter.</summary>
    private double Iops()
    {
        string report = Path.Combine(_server.Directory, "fio.json"); // its stdout also has the nbd engine's own words
        ShellResult fio = Shell.Run(
            $"fio --name=speed --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randread --bs=4k --iodepth=32 --size=64M " +
            $"--time_based --runtime=2 --ramp_time=0.5 --output-format=json --output={report}");
        Assert.Equal((0, ""), (fio.ExitCode, fio.Errors));
        using JsonDocument result = JsonDocument.Parse(File.ReadAllText(report));
        return result.RootElement.GetProperty("jobs")[0].GetProperty("read").GetProperty("iops").GetDouble();
    }
}
