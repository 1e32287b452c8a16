using System.CommandLine;
using Dmp.Daemon;
using Dmp.Stats;
using Dmp.Sysfs;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp stat</c>: the statistics of all of dmp or of one device, as the original's text or as JSON;
/// <c>--clear</c> prints and resets in one step; <c>--watch</c> prints iostat-like rates until Ctrl-C.
/// </summary>
internal static class StatCommand
{
    private static readonly Option<string?> Device = new("--device", "-d")
    {
        Description = "One device's statistics (nbdK under load, exportN under serve)",
        HelpName = "DEVICE",
        CompletionSources = { DeviceCompletions.NbdDevices },
    };

    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object" };

    private static readonly Option<bool> Clear = new("--clear")
    {
        Description = "Print and reset in one step: each request is in this report or the next, never both (the daemon's owner)",
    };

    private static readonly Option<double?> Watch = new("--watch", "-w")
    {
        Description = "Print r/s, w/s, MB/s, request size, latency and in-flight for each device every SECONDS, until Ctrl-C",
        HelpName = "SECONDS",
    };

    public static Command Create()
    {
        var command = new Command("stat", "Print the statistics (stat/volumes, or more)") { Device, Json, Clear, Watch };
        command.Validators.Add(result =>
        {
            if (result.GetValue(Watch) is { } seconds && (seconds <= 0 || result.GetValue(Json) || result.GetValue(Clear)))
            {
                result.AddError(seconds <= 0 ? "--watch needs a positive number of seconds" : "--watch goes with neither --json nor --clear");
            }
        });
        command.SetAction(Execute);
        return command;
    }

    /// <summary><c>dmp reset</c>: writes 1 to stat/reset.</summary>
    public static Command CreateReset()
    {
        var command = new Command("reset", "Zero the statistics (write 1 to stat/reset)");
        command.SetAction(result =>
        {
            RunDirectory run = CommonOptions.RunDirectoryOf(result);
            LoadedModule.Require(run);
            File.WriteAllText(run.ResetFile, "1\n");
        });
        return command;
    }

    private static int Execute(ParseResult result)
    {
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        string? device = result.GetValue(Device);
        bool json = result.GetValue(Json);
        if (result.GetValue(Clear))
        {
            // The control socket's permissions decide: root's for a loaded dmp, its user's for dmp serve.
            return DaemonClient.Run(run, StatisticsRequests.ClearRequest(device, json));
        }

        LoadedModule.Require(run);
        string directory = run.StatDirectory(device);
        if (!Directory.Exists(directory))
        {
            throw new CommandException(device is null ? "the stat tree is not mounted" : $"{device} is not a device dmp serves");
        }

        if (result.GetValue(Watch) is { } seconds)
        {
            return StatWatch.Run(run, device, TimeSpan.FromSeconds(seconds));
        }

        Console.Write(File.ReadAllText(Path.Combine(directory, json ? ModuleTree.JsonFile : ModuleTree.VolumesFile)));
        return 0;
    }
}
