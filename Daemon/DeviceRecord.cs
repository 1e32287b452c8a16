namespace Dmp.Daemon;

/// <summary>One line of the device table: an nbd device, its size in bytes, what backs it, and the dm device it was created for.</summary>
internal sealed record DeviceRecord(int Index, long Size, string Backing, string? CreatedFor)
{
    private const char Separator = '\t';
    private const string None = "-";

    public string Name => ServedDevice.NameOf(Index);

    /// <summary>"nbd1 TAB 524288 TAB /dev/mapper/zero1 TAB dmp1": tab-separated, so paths may hold spaces.</summary>
    public override string ToString() => string.Join(Separator, Name, Size, Backing, CreatedFor ?? None);

    public static DeviceRecord? TryParse(string line)
    {
        string[] fields = line.Split(Separator);
        return fields.Length == 4 && fields[0].StartsWith("nbd", StringComparison.Ordinal) &&
            int.TryParse(fields[0].AsSpan(3), out int index) && long.TryParse(fields[1], out long size)
            ? new DeviceRecord(index, size, fields[2], fields[3] == None ? null : fields[3])
            : null;
    }
}
