using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary>The hidden command <c>dmp load</c> runs in the background process it starts.</summary>
internal static class DaemonCommand
{
    public static Command Create()
    {
        var command = new Command("daemon", "Run the daemon (started by load)")
        {
            CommonOptions.Backings,
            CommonOptions.Size,
            CommonOptions.Listen,
            CommonOptions.MetricsTextfile,
            CommonOptions.NoStatistics,
            CommonOptions.Cache,
            CommonOptions.Connections,
        };
        command.Hidden = true;
        command.SetAction(result => DaemonHost.Run(CommonOptions.DaemonOptionsOf(result)));
        return command;
    }
}
