using System.CommandLine;
using System.Globalization;
using Dmp.Daemon;
using Dmp.Storage;

namespace Dmp.Cli;

/// <summary>The commands that change or show what a loaded dmp serves; each is one request to the daemon.</summary>
internal static class DeviceCommands
{
    private static readonly Argument<string> Name = new("NAME") { Description = "The device-mapper device's name" };

    private static readonly Argument<string> DmDevice = new("NAME")
    {
        Description = "The device-mapper device's name",
        HelpName = "NAME", // help would otherwise list the completions
        CompletionSources = { DeviceCompletions.DmDevices },
    };

    private static readonly Option<string> Table = new("--table")
    {
        Description = "The original's table: \"0 LENGTH dmp DEVICE\" (sectors of 512 bytes)",
        HelpName = "TABLE",
        Required = true,
    };

    private static readonly Argument<BackingSpec> Backing = new("BACKING")
    {
        Description = "memory, zero, or a file or block device",
        CustomParser = result => CommonOptions.ParseEach(result, BackingSpec.Parse).FirstOrDefault()!,
    };

    private static readonly Argument<string> NbdDevice = new("DEVICE")
    {
        Description = "The nbd device, as nbdK",
        HelpName = "DEVICE", // help would otherwise list the completions
        CompletionSources = { DeviceCompletions.NbdDevices },
    };

    public static Command CreateCreate() => Create(
        "create", "Create a dmp device: NAME proxies DEVICE, counted (dmsetup create NAME --table \"0 LEN dmp DEVICE\")",
        [Name, Table, CommonOptions.Cache, CommonOptions.Connections],
        result =>
        {
            DmpTable table = DmpTable.Parse(result.GetValue(Table)!);
            return [DaemonHost.CreateRequest, result.GetValue(Name)!, table.Length.ToString(CultureInfo.InvariantCulture), table.Device, .. DeviceOptions(result)];
        },
        KernelModules.EnsureDeviceMapper);

    public static Command CreateRemove() => Create(
        "remove", "Remove a dmp device and the nbd device made for it (dmsetup remove NAME)",
        [DmDevice],
        result => [DaemonHost.RemoveRequest, result.GetValue(DmDevice)!]);

    public static Command CreateAttach() => Create(
        "attach", "Serve BACKING on the next free nbd device",
        [Backing, CommonOptions.Size, CommonOptions.Cache, CommonOptions.Connections],
        result =>
        {
            BackingSpec backing = result.GetValue(Backing)!;
            long size = CommonOptions.SizeFor(result, [backing]);
            return [DaemonHost.AttachRequest, backing.ToString(), size.ToString(CultureInfo.InvariantCulture), .. DeviceOptions(result)];
        });

    public static Command CreateDetach() => Create(
        "detach", "Stop serving an nbd device (refused while something holds it)",
        [NbdDevice],
        result => [DaemonHost.DetachRequest, result.GetValue(NbdDevice)!]);

    public static Command CreateReload() => Create(
        "reload", "Read the dmptab dmp was loaded with again and apply the difference: add new lines' devices, remove those whose line is gone, replace those whose line changed (refused, changing nothing, while one is in use)",
        [],
        _ => [DaemonHost.ReloadRequest]);

    public static Command CreateStatus() => Create(
        "status", "Show what is loaded: the daemon, each nbd device, its backing and size, and the dm devices on it",
        [],
        _ => [DaemonHost.StatusRequest]);

    /// <summary>The request fields of --cache and --connections, as attach and create send them.</summary>
    private static string[] DeviceOptions(ParseResult result) =>
        [CommonOptions.CacheOf(result).Name(), CommonOptions.ConnectionsOf(result).ToString(CultureInfo.InvariantCulture)];

    /// <param name="request">Builds the control request from the command line, and checks it.</param>
    /// <param name="prepare">Runs once the input is known good and dmp is loaded, before the request is sent.</param>
    private static Command Create(string name, string description, Symbol[] symbols, Func<ParseResult, string[]> request, Action? prepare = null)
    {
        var command = new Command(name, description);
        foreach (Symbol symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Add(argument);
                    break;
                case Option option:
                    command.Add(option);
                    break;
            }
        }

        command.SetAction(result =>
        {
            LoadedModule.RequireRoot(name);
            string[] fields = request(result);
            RunDirectory run = CommonOptions.RunDirectoryOf(result);
            LoadedModule.Require(run);
            prepare?.Invoke();
            return DaemonClient.Run(run, fields);
        });
        return command;
    }
}
