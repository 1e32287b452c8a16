namespace Dmp.Daemon;

/// <summary>The run directory's list of served devices, replaced atomically on every change.</summary>
internal static class DeviceTable
{
    public static void Write(string path, IEnumerable<DeviceRecord> devices)
    {
        string temporary = path + ".new";
        File.WriteAllLines(temporary, devices.Select(device => device.ToString()));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The devices listed, or none when there is no table.</summary>
    /// <param name="unreadable">The lines that are not a device, each with its number, for whoever must say so.</param>
    public static IReadOnlyList<DeviceRecord> Read(string path, out IReadOnlyList<string> unreadable)
    {
        var devices = new List<DeviceRecord>();
        var bad = new List<string>();
        string[] lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        for (int number = 1; number <= lines.Length; number++)
        {
            if (DeviceRecord.TryParse(lines[number - 1]) is { } device)
            {
                devices.Add(device);
            }
            else
            {
                bad.Add($"{path}:{number}: not a device: '{lines[number - 1]}'");
            }
        }

        unreadable = bad;
        return devices;
    }
}
