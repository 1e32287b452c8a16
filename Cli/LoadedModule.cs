using Dmp.Daemon;
using Dmp.Native;

namespace Dmp.Cli;

/// <summary>Checks shared by the commands that act on a loaded dmp.</summary>
internal static class LoadedModule
{
    public static void RequireRoot(string command)
    {
        if (!Processes.IsRoot)
        {
            throw new CommandException($"{command}: Operation not permitted (run it as root)");
        }
    }

    /// <summary>The running daemon's state; fails when none is loaded or it died.</summary>
    public static DaemonState Require(RunDirectory run)
    {
        DaemonState state = PidFile.Probe(run.PidFile);
        return state.Status switch
        {
            DaemonStatus.Running => state,
            DaemonStatus.Dead => throw new CommandException(DeadMessage(state)),
            _ => throw new CommandException("module dmp is not loaded"),
        };
    }

    public static string DeadMessage(DaemonState state) =>
        $"the daemon (pid {state.Pid}) died without unloading; 'dmp load' takes its devices over, 'dmp unload --force' cleans up";
}
