using Dmp.Daemon;
using Dmp.Native;

namespace Dmp.Cli;

/// <summary>The devices the stat tree shows, and the served devices under a device as a user names it.</summary>
internal static class ServedDevices
{
    /// <summary>The names under the stat tree's <c>devices/</c>.</summary>
    public static HashSet<string> List(RunDirectory run) =>
        [.. Directory.GetFileSystemEntries(run.DevicesDirectory()).Select(Path.GetFileName).OfType<string>()];

    /// <summary>The served devices under a device the user named: itself, or those a dm device maps.</summary>
    public static string[] Resolve(string name, HashSet<string> served)
    {
        string device = name.StartsWith("/dev/mapper/", StringComparison.Ordinal) ? name["/dev/mapper/".Length..] : name.Replace("/dev/", "", StringComparison.Ordinal);
        if (served.Contains(device))
        {
            return [device];
        }

        string kernelName = SysBlock.Exists(device) ? device : SysBlock.FindDm(device) ?? throw new CommandException($"no such device: {name}");
        string[] below = SysBlock.Slaves(kernelName).Where(served.Contains).ToArray();
        return below.Length > 0 ? below : throw new CommandException($"{name} is not on a device dmp serves");
    }
}
