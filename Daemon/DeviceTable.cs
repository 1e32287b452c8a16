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
    public static IReadOnlyList<DeviceRecord> Read(string path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Select(DeviceRecord.TryParse).OfType<DeviceRecord>().ToList()
            : [];
}
