using System.CommandLine;
using Dmp.Daemon;
using Dmp.Native;

namespace Dmp.Cli;

/// <summary><c>dmp unload</c>: rmmod. Refuses while a device is in use unless forced.</summary>
internal static class UnloadCommand
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private static readonly Option<bool> Force = new("--force", "-f")
    {
        Description = "Unload even if in use, stop a hung daemon, and clean up after a dead one",
    };

    public static Command Create()
    {
        var command = new Command("unload", "Unload dmp: detach every device and stop the daemon (like rmmod)") { Force };
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        LoadedModule.RequireRoot("unload");
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        if (result.GetValue(Force))
        {
            return ForcedUnload.Run(run, PidFile.Probe(run.PidFile))
                ? 0
                : throw new CommandException("module dmp is not loaded");
        }

        DaemonState state = LoadedModule.Require(run);
        // What the daemon says: devices whose disk did not answer every request in time.
        foreach (string line in DaemonClient.Request(run, DaemonHost.UnloadRequest))
        {
            Console.WriteLine(line);
        }

        return Processes.WaitForExit(state.Pid, ExitTimeout)
            ? 0
            : throw new CommandException($"the daemon (pid {state.Pid}) unloaded but did not exit");
    }
}
