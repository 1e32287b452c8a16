namespace Dmp.Daemon;

/// <summary>One line of the device table: an nbd device, its size in bytes and what backs it.</summary>
internal sealed record DeviceRecord(int Index, long Size, string Backing)
{
    public string Name => $"nbd{Index}";

    /// <summary>"nbd0 1073741824 memory": the backing comes last, so a path may contain spaces.</summary>
    public override string ToString() => $"{Name} {Size} {Backing}";

    public static DeviceRecord? TryParse(string line)
    {
        string[] fields = line.Split(' ', 3);
        return fields.Length == 3 && fields[0].StartsWith("nbd", StringComparison.Ordinal) &&
            int.TryParse(fields[0].AsSpan(3), out int index) && long.TryParse(fields[1], out long size)
            ? new DeviceRecord(index, size, fields[2])
            : null;
    }
}
