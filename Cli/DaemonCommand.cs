using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary>The hidden command <c>dmp load</c> runs in the background process it starts.</summary>
internal static class DaemonCommand
{
    /// <summary>Take over the devices of a daemon that died, with the options it was started with (kept in the run directory).</summary>
    public static Option<bool> TakeOver { get; } = new("--take-over");

    /// <summary>With <see cref="TakeOver"/>: from the running daemon, which hands its sockets over (<c>dmp restart</c>).</summary>
    public static Option<bool> HandOver { get; } = new("--hand-over");

    public static Command Create()
    {
        var command = new Command("daemon", "Run the daemon (started by load)")
        {
            CommonOptions.Backings,
            CommonOptions.Size,
            CommonOptions.Listen,
            CommonOptions.MetricsListen,
            CommonOptions.Tls,
            CommonOptions.TlsCertificates,
            CommonOptions.TlsVerifyPeer,
            CommonOptions.MetricsTextfile,
            CommonOptions.NoStatistics,
            CommonOptions.Cache,
            CommonOptions.Connections,
            CommonOptions.ReattachTimeout,
            CommonOptions.Config,
            TakeOver,
            HandOver,
        };
        command.Hidden = true;
        command.SetAction(result =>
        {
            if (!result.GetValue(TakeOver))
            {
                return DaemonHost.Run(CommonOptions.DaemonOptionsOf(result), takeOver: false);
            }

            // The options the daemon that died was started with, as it kept them.
            RunDirectory run = CommonOptions.RunDirectoryOf(result);
            ParseResult saved = DmpCommandLine.Create().Parse(File.ReadAllLines(run.OptionsFile));
            return saved.Errors.Count == 0
                ? DaemonHost.Run(CommonOptions.DaemonOptionsOf(saved), takeOver: true, handOver: result.GetValue(HandOver))
                : throw new CommandException($"{run.OptionsFile}: {saved.Errors[0].Message}");
        });
        return command;
    }
}
