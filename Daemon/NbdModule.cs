using System.Diagnostics;

namespace Dmp.Daemon;

/// <summary>Loads the kernel's nbd module when it is missing, as <c>dmp load</c> promises.</summary>
internal static class NbdModule
{
    private static readonly string[] ModprobeLocations = ["/usr/sbin/modprobe", "/sbin/modprobe"];

    public static bool IsLoaded => Directory.Exists("/sys/module/nbd");

    /// <summary>Runs <c>modprobe nbd max_part=0</c> (no partition scans of fresh devices) unless nbd is there.</summary>
    /// <exception cref="InvalidOperationException">The kernel has no nbd to load.</exception>
    public static void EnsureLoaded()
    {
        if (IsLoaded)
        {
            return;
        }

        string modprobe = ModprobeLocations.FirstOrDefault(File.Exists) ?? "modprobe";
        var start = new ProcessStartInfo(modprobe, ["nbd", "max_part=0"])
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
            if (process.ExitCode == 0 && IsLoaded)
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
            $"the kernel has no nbd support: modprobe nbd failed{(detail.Length > 0 ? $" ({detail})" : "")}");
    }
}
