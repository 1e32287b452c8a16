using System.CommandLine.Completions;
using Dmp.Daemon;
using Dmp.Native;

namespace Dmp.Cli;

/// <summary>
/// Completions of device names for the shell (the <c>[suggest]</c> directive, which contrib/completion's scripts
/// ask): the nbd devices in the run directory's device table and the dm devices on them. The table exists only
/// while dmp is loaded, so without a daemon a completion reads one missing file and offers nothing.
/// </summary>
internal static class DeviceCompletions
{
    /// <summary>nbdK of each device the daemon serves.</summary>
    public static IEnumerable<CompletionItem> NbdDevices(CompletionContext context) =>
        Served(context).Select(device => new CompletionItem(device.Name));

    /// <summary>The dm devices on served devices: those <c>create</c> made, and any the kernel says map one.</summary>
    public static IEnumerable<CompletionItem> DmDevices(CompletionContext context) =>
        Served(context).SelectMany(DmNamesOn).OfType<string>().Distinct().Order(StringComparer.Ordinal).Select(name => new CompletionItem(name));

    /// <summary>Either kind, for the commands that take a device by its nbd or its dm name.</summary>
    public static IEnumerable<CompletionItem> AnyDevices(CompletionContext context) =>
        NbdDevices(context).Concat(DmDevices(context));

    private static string?[] DmNamesOn(DeviceRecord device)
    {
        try
        {
            return [.. SysBlock.Holders(device.Name).Select(SysBlock.DmName), device.CreatedFor];
        }
        catch (IOException)
        {
            return [device.CreatedFor]; // a dm device removed while it was looked at
        }
    }

    private static IReadOnlyList<DeviceRecord> Served(CompletionContext context)
    {
        if (context.ParseResult.GetValue(CommonOptions.RunDirectory) is not { } path)
        {
            return []; // not a command line's completion (help asks too)
        }

        try
        {
            return DeviceTable.Read(new RunDirectory(path).DeviceTable, out _);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return []; // a table the user may not read completes to nothing, as no table does
        }
    }
}
