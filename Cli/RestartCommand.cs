using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp restart</c>: replaces the running daemon (after an upgrade of the binary, say) with no IO error: the new one
/// takes every device over, on the same sockets, while the old one answers what it has and exits. After a daemon died,
/// the same as <c>dmp load</c>: the new one takes its devices over.
/// </summary>
internal static class RestartCommand
{
    public static Command Create()
    {
        var command = new Command("restart", "Replace the daemon with a new one (this binary) that takes every device over, with no IO error");
        command.SetAction(result =>
        {
            LoadedModule.RequireRoot("restart");
            RunDirectory run = CommonOptions.RunDirectoryOf(result);
            DaemonState state = PidFile.Probe(run.PidFile);
            if (state.Status == DaemonStatus.Running && IsSystemdService(state.Pid))
            {
                // A daemon started from here would be outside the unit: systemd would lose the service it supervises.
                throw new CommandException(ServiceUnitOf(state.Pid) is { } unit
                    ? $"the daemon (pid {state.Pid}) runs under systemd as {unit}: restart it with 'systemctl restart {unit}'"
                    : $"the daemon (pid {state.Pid}) runs under systemd: restart it with systemctl");
            }

            IReadOnlyList<string> devices = state.Status switch
            {
                DaemonStatus.Running => DaemonLauncher.HandOver(run),
                DaemonStatus.Dead => DaemonLauncher.TakeOver(run),
                _ => throw new CommandException("module dmp is not loaded"),
            };
            foreach (string device in devices)
            {
                Console.WriteLine(device);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Whether a process runs as a systemd notify service: it has NOTIFY_SOCKET.</summary>
    private static bool IsSystemdService(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0').Any(variable => variable.StartsWith("NOTIFY_SOCKET=", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false; // gone meanwhile
        }
    }

    /// <summary>The service unit a process runs in ("0::/system.slice/dmp.service": the end of its cgroup), or null.</summary>
    private static string? ServiceUnitOf(int pid)
    {
        try
        {
            string cgroup = File.ReadAllText($"/proc/{pid}/cgroup").Trim();
            string unit = cgroup[(cgroup.LastIndexOf('/') + 1)..];
            return unit.EndsWith(".service", StringComparison.Ordinal) ? unit : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
