using Dmp.Stats;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>The tree mounted at <c>RUNDIR/module</c>, shaped like <c>/sys/module/dmp</c>.</summary>
internal static class ModuleTree
{
    public const string VolumesPath = "stat/volumes";
    public const string ResetPath = "stat/reset";

    public static SysfsTree Create(IoStatistics statistics)
    {
        var tree = new SysfsTree();
        SysfsDirectory stat = tree.Directory("stat");
        tree.Add(stat, new SysfsAttribute("volumes", show: () => VolumesReport.Format(statistics.Snapshot())));
        tree.Add(stat, new SysfsAttribute("reset", store: value =>
        {
            if (!IsResetRequest(value))
            {
                return LibC.EINVAL;
            }

            statistics.Reset();
            return 0;
        }));
        return tree;
    }

    /// <summary>The original module accepts only "1" (with the newline echo adds).</summary>
    public static bool IsResetRequest(ReadOnlySpan<byte> value) => value is [(byte)'1'] or [(byte)'1', (byte)'\n'];
}
