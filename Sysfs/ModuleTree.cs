using System.Globalization;
using Dmp.Stats;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// The tree mounted at <c>RUNDIR/module</c>, shaped like <c>/sys/module/dmp</c>:
/// <code>
/// initstate  refcnt  holders/  parameters/
/// stat/      volumes ops latency sizes metrics json reset
/// devices/NAME/  the same stat files for one device, plus stat baseline backing size holders/
/// </code>
/// Every file renders one snapshot when read from its start, so its numbers always agree with each other.
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

    private readonly SysfsDirectory _devices;

    /// <param name="parameters">The load options, one read-only file each under <c>parameters/</c>.</param>
    /// <param name="holders">The device-mapper devices that hold any served device, as links for <c>holders/</c>.</param>
    /// <param name="reset">Zeroes every counter; run when root writes 1 to <c>stat/reset</c>.</param>
    public ModuleTree(
        ModuleStatistics statistics, IReadOnlyList<(string Name, string Value)> parameters,
        Func<IReadOnlyList<(string Name, string Target)>> holders, Action reset)
    {
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
        }

        Tree.Add(device, Text("backing", () => files.Backing));
        Tree.Add(device, Text("size", () => files.Size.ToString(CultureInfo.InvariantCulture)));
        if (files.Holders is { } holders)
        {
            Tree.Add(device, new SysfsDirectory("holders") { Links = holders });
        }
    }

    public void RemoveDevice(string name) => Tree.Remove(_devices, name);

    /// <summary>The original module accepts only "1" (with the newline echo adds).</summary>
    public static bool IsResetRequest(ReadOnlySpan<byte> value) => value is [(byte)'1'] or [(byte)'1', (byte)'\n'];

    private void AddStatistics(SysfsDirectory directory, Func<IoCounters> snapshot, Func<string> metrics, string? device, Action reset)
    {
        Tree.Add(directory, new SysfsAttribute(VolumesFile, show: () => VolumesReport.Format(snapshot())));
        Tree.Add(directory, new SysfsAttribute("ops", show: () => OperationsReport.Format(snapshot())));
        Tree.Add(directory, new SysfsAttribute("latency", show: () => HistogramReport.FormatLatency(snapshot())));
        Tree.Add(directory, new SysfsAttribute("sizes", show: () => HistogramReport.FormatSizes(snapshot())));
        Tree.Add(directory, new SysfsAttribute("metrics", show: metrics.Invoke));
        Tree.Add(directory, new SysfsAttribute(JsonFile, show: () => StatisticsJson.Format(device, snapshot())));
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
