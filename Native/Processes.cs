using Tmds.Linux;

namespace Dmp.Native;

/// <summary>The few process syscalls the CLI needs: privilege, signals, and whether a pid is gone.</summary>
internal static class Processes
{
    public static bool IsRoot => LibC.geteuid() == 0;

    /// <summary>Leaves the caller's session and its controlling terminal (fails harmlessly for a group leader).</summary>
    public static void StartSession() => _ = LibC.setsid();

    /// <returns>0 or errno (ESRCH: no such process).</returns>
    public static int Signal(int pid, int signal) => Errno.Of(LibC.kill(pid, signal));

    /// <summary>True once <paramref name="pid"/> no longer runs, counting a zombie nobody reaped yet as gone.</summary>
    public static bool HasExited(int pid)
    {
        if (Signal(pid, 0) == LibC.ESRCH)
        {
            return true;
        }

        // /proc/PID/stat: "pid (comm) S ...": the state letter follows the last ')'.
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return true;
        }

        int end = stat.LastIndexOf(')');
        return end >= 0 && end + 2 < stat.Length && stat[end + 2] is 'Z' or 'X';
    }

    /// <summary>Polls until <paramref name="pid"/> has exited or <paramref name="timeout"/> passes.</summary>
    public static bool WaitForExit(int pid, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!HasExited(pid))
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }
}
