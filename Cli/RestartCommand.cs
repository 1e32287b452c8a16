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
}
