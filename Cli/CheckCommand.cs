using System.CommandLine;
using Dmp.Daemon;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Sysfs;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp check [DEV...]</c>: the original's <c>dmp_check.py</c>. Sums dmp's counters and the kernel's
/// (since each device's baseline) over the named devices, prints <c>volumes</c> for them, then
/// <c>correct</c> or one line per disagreement. Needs no privilege: it reads only world-readable files.
/// </summary>
internal static class CheckCommand
{
    private static readonly Argument<string[]> Devices = new("DEV")
    {
        Description = "A dm device (by name or dm-N) or an nbd device (nbdK); none means every device dmp serves",
        Arity = ArgumentArity.ZeroOrMore,
        HelpName = "DEV", // help would otherwise list the completions
        CompletionSources = { DeviceCompletions.AnyDevices },
    };

    public static Command Create()
    {
        var command = new Command("check", "Check dmp's counters against the kernel's own for the devices (like dmp_check.py)") { Devices };
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        LoadedModule.Require(run);
        string devicesDirectory = run.DevicesDirectory();
        HashSet<string> served = ServedDevices.List(run);
        string[] named = result.GetValue(Devices) ?? [];
        IEnumerable<string> selected = named.Length == 0 ? served : named.SelectMany(device => ServedDevices.Resolve(device, served)).Distinct();

        BlockStat dmp = default;
        BlockStat kernel = default;
        long inFlightAtTakeovers = 0;
        foreach (string device in selected.Order())
        {
            string directory = Path.Combine(devicesDirectory, device);
            dmp += BlockStat.Parse(File.ReadAllText(Path.Combine(directory, ModuleTree.BlockStatFile)));
            kernel += BlockStat.Parse(SysBlock.Stat(device)) - BlockStat.Parse(File.ReadAllText(Path.Combine(directory, ModuleTree.BaselineFile)));
            inFlightAtTakeovers += long.Parse(File.ReadAllText(Path.Combine(directory, ModuleTree.TakeoverFile)), System.Globalization.CultureInfo.InvariantCulture);
        }

        Console.Write(VolumesReport.Format(dmp.ToCounters()));
        IReadOnlyList<string> mismatches = ConsistencyCheck.Compare(dmp, kernel, inFlightAtTakeovers);
        Console.WriteLine(mismatches.Count == 0 ? "correct" : string.Join('\n', mismatches));
        return mismatches.Count == 0 ? 0 : DmpCommandLine.Failure;
    }
}
