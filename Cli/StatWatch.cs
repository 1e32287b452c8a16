using System.Globalization;
using Dmp.Daemon;
using Dmp.Stats;
using Dmp.Sysfs;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp stat --watch SECONDS</c>: like <c>iostat -x</c>, one row per device per interval, from the
/// difference between two snapshots of each device's <c>json</c>. Ends cleanly on Ctrl-C (SIGINT) or SIGTERM.
/// </summary>
internal static class StatWatch
{
    private static readonly string[] Columns = ["device", "r/s", "w/s", "rMB/s", "wMB/s", "avg_kB", "await_ms", "in_flight"];

    public static int Run(RunDirectory run, string? device, TimeSpan interval)
    {
        using var stop = new StopSignals();
        string devices = run.DevicesDirectory();
        Dictionary<string, StatisticsDocument> previous = Sample(devices, device);
        while (!stop.Wait(interval))
        {
            Dictionary<string, StatisticsDocument> current = Sample(devices, device);
            var rows = new List<string[]> { Columns };
            foreach ((string name, StatisticsDocument now) in current)
            {
                if (previous.TryGetValue(name, out StatisticsDocument? before))
                {
                    rows.Add(Row(name, before, now, interval.TotalSeconds));
                }
            }

            Console.Write($"{DateTime.Now:HH:mm:ss}\n{Table.Format(rows)}\n");
            previous = current;
        }

        return 0;
    }

    /// <summary>Each device's JSON; a device that went away between listing and reading is skipped.</summary>
    private static Dictionary<string, StatisticsDocument> Sample(string devices, string? only)
    {
        var samples = new Dictionary<string, StatisticsDocument>();
        foreach (string directory in Directory.GetDirectories(devices).Order())
        {
            string name = Path.GetFileName(directory);
            if (only is null || only == name)
            {
                try
                {
                    samples[name] = StatisticsJson.Parse(File.ReadAllText(Path.Combine(directory, ModuleTree.JsonFile)));
                }
                catch (IOException)
                {
                }
            }
        }

        return samples;
    }

    private static string[] Row(string name, StatisticsDocument before, StatisticsDocument now, double seconds)
    {
        long Delta(Func<StatisticsDocument, long> value) => Math.Max(0, value(now) - value(before));
        long Sum(StatisticsDocument document, Func<OperationDocument, long> value, params string[] operations) =>
            operations.Sum(operation => value(document.Operations[operation]));

        string[] writes = ["write", "write_zeroes"];
        long reads = Delta(document => Sum(document, counts => counts.Requests, "read"));
        long written = Delta(document => Sum(document, counts => counts.Requests, writes));
        long readBytes = Delta(document => Sum(document, counts => counts.Bytes, "read"));
        long writtenBytes = Delta(document => Sum(document, counts => counts.Bytes, writes));
        long timeUs = Delta(document => Sum(document, counts => counts.TimeUs, ["read", .. writes]));
        long requests = reads + written;
        long inFlight = now.Operations.Values.Sum(counts => counts.InFlight);
        return
        [
            name, Rate(reads / seconds), Rate(written / seconds), Rate(readBytes / seconds / 1e6), Rate(writtenBytes / seconds / 1e6),
            Rate(requests == 0 ? 0 : (readBytes + writtenBytes) / 1024.0 / requests), Rate(requests == 0 ? 0 : timeUs / 1000.0 / requests),
            inFlight.ToString(CultureInfo.InvariantCulture),
        ];
    }

    private static string Rate(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
