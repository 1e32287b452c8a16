namespace Dmp.Native;

/// <summary>What <c>/sys/block</c> says about block devices and how they stack.</summary>
internal static class SysBlock
{
    private const string Root = "/sys/block";

    public static bool Exists(string device) => Directory.Exists(Path.Combine(Root, device));

    /// <summary>The raw <c>stat</c> line of a device (Documentation/block/stat.rst).</summary>
    public static string Stat(string device) => File.ReadAllText(Path.Combine(Root, device, "stat"));

    /// <summary>Requests the block layer has started on a device and not yet completed (<c>inflight</c>: reads plus writes).</summary>
    public static long InFlight(string device) =>
        File.ReadAllText(Path.Combine(Root, device, "inflight")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(long.Parse);

    /// <summary>What a netlink-attached nbd device says its server is (<c>backend</c>); empty when it has no such file.</summary>
    public static string Backend(string device)
    {
        string path = Path.Combine(Root, device, "backend");
        return File.Exists(path) ? File.ReadAllText(path).Trim() : "";
    }

    /// <summary>The devices stacked on <paramref name="device"/> (dm-N that map it), sorted.</summary>
    public static IReadOnlyList<string> Holders(string device) => Entries(device, "holders");

    /// <summary>The devices <paramref name="device"/> is stacked on (what a dm-N maps), sorted.</summary>
    public static IReadOnlyList<string> Slaves(string device) => Entries(device, "slaves");

    /// <summary>The device-mapper name of a dm-N, or null for any other device.</summary>
    public static string? DmName(string device)
    {
        string path = Path.Combine(Root, device, "dm", "name");
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>The dm-N whose device-mapper name is <paramref name="name"/>, or null.</summary>
    public static string? FindDm(string name) =>
        Directory.Exists(Root)
            ? Directory.GetFileSystemEntries(Root, "dm-*").Select(Path.GetFileName).OfType<string>().FirstOrDefault(device => DmName(device) == name)
            : null;

    private static List<string> Entries(string device, string relation)
    {
        string path = Path.Combine(Root, device, relation);
        return Directory.Exists(path)
            ? Directory.GetFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().Order().ToList()
            : [];
    }
}
