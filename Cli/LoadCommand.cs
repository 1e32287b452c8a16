using System.CommandLine;
using Dmp.Config;
using Dmp.Daemon;
using Dmp.Native;
using Dmp.Nbd;
using Dmp.Storage;
using Tmds.Linux;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp load</c>: insmod. Starts the daemon and returns once every device is connected. When the run
/// directory holds the devices of a daemon that died, the new one takes them over instead, as they were.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var command = new Command(
            "load",
            $"Load dmp: start the daemon and attach one nbd device per BACKING, or those --config declares (with no BACKING, those of {DmpTab.DefaultPath} when it exists), like insmod; after a daemon died, take its devices over")
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
        };
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        LoadedModule.RequireRoot("load");
        DaemonOptions options = CommonOptions.DaemonOptionsOf(result, defaultConfig: true);
        RunDirectory run = options.RunDirectory;
        DaemonState state = PidFile.Probe(run.PidFile);
        if (state.Status == DaemonStatus.Running)
        {
            throw new CommandException($"could not load module dmp: {Errno.Describe(LibC.EEXIST)} (the daemon runs as pid {state.Pid})");
        }

        if (state.Status == DaemonStatus.Dead)
        {
            CheckNamedBackings(result, run);
        }
        else
        {
            if (options.Config is { } config)
            {
                CheckConfig(config, options);
            }

            // Bad certificates fail the load before anything starts (the daemon loads them again as it starts).
            _ = NbdTls.Load(options.Tls ?? NbdTlsSettings.Off);
        }

        KernelModules.EnsureNbd();
        KernelModules.EnsureFuse();

        IReadOnlyList<string> devices = state.Status == DaemonStatus.Dead ? DaemonLauncher.TakeOver(run) : DaemonLauncher.Launch(options);
        foreach (string device in devices)
        {
            Console.WriteLine(device);
        }

        return 0;
    }

    /// <summary>A bad dmptab fails the load before anything starts (the daemon reads it again as it starts).</summary>
    private static void CheckConfig(string config, DaemonOptions options)
    {
        try
        {
            _ = DmpTab.Read(config, options.Cache, options.Connections);
        }
        catch (FormatException exception)
        {
            throw new CommandException(exception.Message);
        }
    }

    /// <summary>
    /// A load after a daemon died takes over what it served. Naming backings is allowed, as a check: they must
    /// be those the devices <c>load</c> and <c>attach</c> made are served from; otherwise nothing is changed.
    /// </summary>
    private static void CheckNamedBackings(ParseResult result, RunDirectory run)
    {
        if (result.GetValue(CommonOptions.Backings) is not { Length: > 0 } named)
        {
            return;
        }

        string[] running = [.. DeviceTable.Read(run.DeviceTable, out _).Where(device => device.CreatedFor is null).Select(device => device.Backing).Order()];
        string[] asked = [.. named.Select(backing => backing.ToString()).Order()];
        if (!running.SequenceEqual(asked))
        {
            throw new CommandException(
                $"the daemon that died served {(running.Length == 0 ? "nothing" : string.Join(", ", running))}, not {string.Join(", ", asked)}: " +
                "run 'dmp load' alone to take its devices over, or 'dmp unload --force' first to start afresh");
        }
    }
}
