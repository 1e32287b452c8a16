namespace Dmp.Tests.Cli;

/// <summary>
/// A test of what dmp does on a kernel that has no nbd to load (like the machines dmp is built on);
/// skipped, and reported as skipped, on a kernel that has one (the qemu suites cover load there).
/// </summary>
public sealed class HostWithoutNbdFactAttribute : FactAttribute
{
    public HostWithoutNbdFactAttribute()
    {
        string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        if (Directory.Exists("/sys/module/nbd") || Directory.Exists($"/lib/modules/{release}"))
        {
            Skip = $"kernel {release} has nbd, or modules it might be loaded from";
        }
    }
}
