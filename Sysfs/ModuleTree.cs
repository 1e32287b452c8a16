using System.Globalization;
using System.Text;
using Dmp.Faults;
using Dmp.Stats;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// The tree mounted at <c>RUNDIR/module</c>, shaped like <c>/sys/module/dmp</c>:
/// <code>
/// initstate  refcnt  holders/  parameters/
/// stat/      volumes ops latency sizes metrics json reset trace
/// devices/NAME/  the same stat files for one device, plus stat baseline backing size faults holders/
/// </code>
/// Every file renders one snapshot when read from its start, so its numbers always agree with each other;
/// <c>trace</c> is a stream, like the kernel's <c>trace_pipe</c>.
/// </summary>
internal sealed class ModuleTree
{
    // The names the CLI reads back, as the tree makes them.
    public const string StatDirectory = "stat";
    public const string DevicesDirectory = "devices";
    public const string VolumesFile = "volumes";
    public const string JsonFile = "json";
    public const string ResetFile = "reset";
    public const string BlockStatFile = "stat";
    public const string BaselineFile = "baseline";
    public const string TakeoverFile = "inflight_at_takeover";
    public const string TraceFile = "trace";
    public const string FaultsFile = "faults";

    private readonly SysfsDirectory _devices;
    private readonly TraceHub _trace;
    private readonly Action<string> _log;

    /// <param name="parameters">The load options, one read-only file each under <c>parameters/</c>.</param>
    /// <param name="holders">The device-mapper devices that hold any served device, as links for <c>holders/</c>.</param>
    /// <param name="reset">Zeroes every counter; run when root writes 1 to <c>stat/reset</c>.</param>
    /// <param name="trace">Where the <c>trace</c> files read from.</param>
    /// <param name="log">Told why a write to a <c>faults</c> file was refused.</param>
    public ModuleTree(
        ModuleStatistics statistics, IReadOnlyList<(string Name, string Value)> parameters,
        Func<IReadOnlyList<(string Name, string Target)>> holders, Action reset, TraceHub trace, Action<string> log)
    {
        _trace = trace;
        _log = log;
        Tree.Add(Tree.Root, Text("initstate", () => "live"));
        Tree.Add(Tree.Root, Text("refcnt", () => holders().Count.ToString(CultureInfo.InvariantCulture)));
        Tree.Add(Tree.Root, new SysfsDirectory("holders") { Links = holders });
        SysfsDirectory parameterDirectory = Tree.Directory("parameters");
        foreach ((string name, string value) in parameters)
        {
            Tree.Add(parameterDirectory, Text(name, () => value));
        }

        AddStatistics(
            Tree.Directory(StatDirectory), statistics.Snapshot,
            () => MetricsExposition.Format(statistics), device: null, reset);
        _devices = Tree.Directory(DevicesDirectory);
    }

    public SysfsTree Tree { get; } = new();

    /// <summary>Adds <c>devices/NAME/</c>; see <see cref="DeviceFiles"/>.</summary>
    public void AddDevice(DeviceFiles files)
    {
        DeviceStatistics statistics = files.Statistics;
        SysfsDirectory device = Tree.Add(_devices, new SysfsDirectory(statistics.Name));
        AddStatistics(device, statistics.Snapshot, () => MetricsExposition.Format([(statistics.Name, statistics.Snapshot())]), statistics.Name, files.Reset);
        Tree.Add(device, new SysfsAttribute(BlockStatFile, show: () => BlockStat.FromCounters(statistics.Snapshot()).Format()));
        if (files.Baseline is { } baseline)
        {
            Tree.Add(device, new SysfsAttribute(BaselineFile, show: () => baseline()));
            Tree.Add(device, Text(TakeoverFile, () => statistics.InFlightAtTakeovers.ToString(CultureInfo.InvariantCulture)));
        }

        Tree.Add(device, Text("backing", () => files.Backing));
        Tree.Add(device, Text("size", () => files.Size.ToString(CultureInfo.InvariantCulture)));
        Tree.Add(device, new SysfsAttribute(FaultsFile, show: files.Faults.Format, store: value => ApplyFault(statistics.Name, files.Faults, value), ownerOnly: true));
        if (files.Holders is { } holders)
        {
            Tree.Add(device, new SysfsDirectory("holders") { Links = holders });
        }
    }

    public void RemoveDevice(string name) => Tree.Remove(_devices, name);

    /// <summary>The original module accepts only "1" (with the newline echo adds).</summary>
    public static bool IsResetRequest(ReadOnlySpan<byte> value) => value is [(byte)'1'] or [(byte)'1', (byte)'\n'];

    /// <summary>A line written to <c>devices/NAME/faults</c>: a rule, <c>clear</c> or <c>clear ID</c> (<see cref="DeviceFaults.Apply"/>).</summary>
    /// <returns>0, or EINVAL for a line that is not one (nothing then changes; the log says why).</returns>
    private int ApplyFault(string device, DeviceFaults faults, ReadOnlySpan<byte> value)
    {
        string line = Encoding.UTF8.GetString(value).TrimEnd('\n');
        string? error = line.Contains('\n') ? "one rule per write" : faults.Apply(line);
        if (error is not null)
        {
            _log($"{device}/{FaultsFile}: '{line}' refused: {error}");
            return LibC.EINVAL;
        }

        return 0;
    }

    private void AddStatistics(SysfsDirectory directory, Func<IoCounters> snapshot, Func<string> metrics, string? device, Action reset)
    {
        Tree.Add(directory, new SysfsAttribute(VolumesFile, show: () => VolumesReport.Format(snapshot())));
        Tree.Add(directory, new SysfsAttribute("ops", show: () => OperationsReport.Format(snapshot())));
        Tree.Add(directory, new SysfsAttribute("latency", show: () => HistogramReport.FormatLatency(snapshot())));
        Tree.Add(directory, new SysfsAttribute("sizes", show: () => HistogramReport.FormatSizes(snapshot())));
        Tree.Add(directory, new SysfsAttribute("metrics", show: metrics.Invoke));
        Tree.Add(directory, new SysfsAttribute(JsonFile, show: () => StatisticsJson.Format(device, snapshot())));
        Tree.Add(directory, new SysfsStream(TraceFile, () => new TraceReader(_trace, device)));
        Tree.Add(directory, new SysfsAttribute(ResetFile, store: value =>
        {
            if (!IsResetRequest(value))
            {
                return LibC.EINVAL;
            }

            reset();
            return 0;
        }));
    }

    private static SysfsAttribute Text(string name, Func<string> value) => new(name, show: () => value() + "\n");
}
