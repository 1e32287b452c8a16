using System.CommandLine;
using Dmp.Daemon;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Cli;

/// <summary><c>dmp load</c>: insmod. Starts the daemon and returns once every device is connected.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var command = new Command("load", "Load dmp: start the daemon and attach one nbd device per BACKING (like insmod)")
        {
            CommonOptions.Backings,
            CommonOptions.Size,
            CommonOptions.Listen,
            CommonOptions.MetricsTextfile,
            CommonOptions.NoStatistics,
            CommonOptions.Cache,
            CommonOptions.Connections,
        };
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        LoadedModule.RequireRoot("load");
        DaemonOptions options = CommonOptions.DaemonOptionsOf(result);
        DaemonState state = PidFile.Probe(options.RunDirectory.PidFile);
        switch (state.Status)
        {
            case DaemonStatus.Running:
                throw new CommandException(
                    $"could not load module dmp: {Errno.Describe(LibC.EEXIST)} (the daemon runs as pid {state.Pid})");
            case DaemonStatus.Dead:
                throw new CommandException(LoadedModule.DeadMessage(state));
        }

        KernelModules.EnsureNbd();
        KernelModules.EnsureFuse();
        foreach (string device in DaemonLauncher.Launch(options))
        {
            Console.WriteLine(device);
        }

        return 0;
    }
}
