using System.Diagnostics;

namespace Dmp.Daemon;

/// <summary>Loads the kernel modules dmp stands on (nbd, fuse, device-mapper) when they are missing, as insmod would its dependencies.</summary>
internal static class KernelModules
{
    private static readonly string[] ModprobeLocations = ["/usr/sbin/modprobe", "/sbin/modprobe"];

    /// <summary>nbd without partition scans (<c>max_part=0</c>), which would read every fresh device.</summary>
    public static void EnsureNbd() => EnsureLoaded("nbd", "/sys/module/nbd", "max_part=0");

    /// <summary>fuse, for the stat tree; usually built in, a module on some distribution kernels.</summary>
    public static void EnsureFuse() => EnsureLoaded("fuse", "/sys/module/fuse");

    /// <summary>device-mapper, for <c>dmp create</c>.</summary>
    public static void EnsureDeviceMapper() => EnsureLoaded("dm_mod", "/sys/module/dm_mod");

    /// <exception cref="InvalidOperationException">The kernel has no such module to load.</exception>
    private static void EnsureLoaded(string module, string presence, params string[] parameters)
    {
        if (Directory.Exists(presence))
        {
            return;
        }

        string modprobe = ModprobeLocations.FirstOrDefault(File.Exists) ?? "modprobe";
        var start = new ProcessStartInfo(modprobe, [module, .. parameters])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        };
        string problem;
        try
        {
            using Process process = Process.Start(start)!;
            problem = process.StandardError.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && Directory.Exists(presence))
            {
                return;
            }
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            problem = exception.Message;
        }

        string detail = problem.Split('\n')[0];
        throw new InvalidOperationException(
            $"the kernel has no {module} support: modprobe {module} failed{(detail.Length > 0 ? $" ({detail})" : "")}");
    }
}
