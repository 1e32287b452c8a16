using Dmp.Stats;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// The tree mounted at <c>RUNDIR/module</c>, shaped like <c>/sys/module/dmp</c>: the original's
/// <c>stat/volumes</c> and <c>stat/reset</c>, and a directory per served device under <c>devices/</c>.
/// </summary>
internal sealed class ModuleTree
{
    public const string VolumesPath = "stat/volumes";
    public const string ResetPath = "stat/reset";
    public const string DevicesPath = "devices";

    private readonly SysfsDirectory _devices;

    /// <param name="reset">Zeroes every counter; run when root writes 1 to <c>stat/reset</c>.</param>
    public ModuleTree(ModuleStatistics statistics, Action reset)
    {
        SysfsDirectory stat = Tree.Directory("stat");
        Tree.Add(stat, new SysfsAttribute("volumes", show: () => VolumesReport.Format(statistics.Snapshot())));
        Tree.Add(stat, ResetAttribute(reset));
        _devices = Tree.Directory(DevicesPath);
    }

    public SysfsTree Tree { get; } = new();

    /// <summary>
    /// Adds <c>devices/NAME/</c>: <c>volumes</c> (this device alone), <c>stat</c> (its counters in the layout of
    /// /sys/block/NAME/stat), <c>baseline</c> (the kernel's /sys/block/NAME/stat when they were last zeroed;
    /// only for a kernel device), <c>backing</c> and <c>size</c> (bytes).
    /// </summary>
    public void AddDevice(DeviceStatistics statistics, Func<string>? baseline, string backing, long size)
    {
        SysfsDirectory device = Tree.Add(_devices, new SysfsDirectory(statistics.Name));
        Tree.Add(device, new SysfsAttribute("volumes", show: () => VolumesReport.Format(statistics.Snapshot())));
        Tree.Add(device, new SysfsAttribute("stat", show: () => BlockStat.FromCounters(statistics.Snapshot()).Format()));
        if (baseline is not null)
        {
            Tree.Add(device, new SysfsAttribute("baseline", show: () => baseline()));
        }

        Tree.Add(device, new SysfsAttribute("backing", show: () => backing + "\n"));
        Tree.Add(device, new SysfsAttribute("size", show: () => $"{size}\n"));
    }

    public void RemoveDevice(string name) => Tree.Remove(_devices, name);

    /// <summary>The original module accepts only "1" (with the newline echo adds).</summary>
    public static bool IsResetRequest(ReadOnlySpan<byte> value) => value is [(byte)'1'] or [(byte)'1', (byte)'\n'];

    private static SysfsAttribute ResetAttribute(Action reset) => new("reset", store: value =>
    {
        if (!IsResetRequest(value))
        {
            return LibC.EINVAL;
        }

        reset();
        return 0;
    });
}
