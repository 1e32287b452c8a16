using System.Globalization;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>
/// One line of the device table: an nbd device, its size in bytes, what backs it, the dm device it was created
/// for, how its backing is reached, how many sockets the kernel has for it, the dmptab line it was declared by and
/// whether it is read-only: what a daemon that takes over needs to serve it again, and reload to know it.
/// </summary>
/// <param name="Declared">The dmptab NAME of a device the config declared; null for one attached or created by hand.</param>
/// <param name="Listen">Where the device alone is served to NBD clients (a dmptab line's <c>listen=</c>), or null.</param>
internal sealed record DeviceRecord(
    int Index, long Size, string Backing, string? CreatedFor, CacheMode Cache, int Connections, string? Declared = null, bool ReadOnly = false,
    string? Listen = null)
{
    private const char Separator = '\t';
    private const string None = "-";
    private const string ReadWriteAccess = "rw";
    private const string ReadOnlyAccess = "ro";

    public string Name => ServedDevice.NameOf(Index);

    /// <summary>
    /// "nbd1 TAB 524288 TAB /dev/mapper/zero1 TAB dmp1 TAB none TAB 2": tab-separated, so paths may hold spaces; a device
    /// the dmptab declared, or a read-only one, adds "TAB disk0 TAB ro", and one with a listener of its own "TAB unix:/run/disk0.sock"
    /// (the others keep the form an older dmp reads).
    /// </summary>
    public override string ToString()
    {
        string line = string.Join(Separator, Name, Size, Backing, CreatedFor ?? None, Cache.Name(), Connections.ToString(CultureInfo.InvariantCulture));
        line = Declared is null && !ReadOnly && Listen is null ? line : string.Join(Separator, line, Declared ?? None, ReadOnly ? ReadOnlyAccess : ReadWriteAccess);
        return Listen is null ? line : string.Join(Separator, line, Listen);
    }

    /// <returns>Null for a line that is not one.</returns>
    public static DeviceRecord? TryParse(string line)
    {
        string[] fields = line.Split(Separator);
        if (fields.Length == 4)
        {
            fields = [.. fields, CacheModes.None, "1"]; // the table of a dmp before cache modes and sockets per device
        }

        if (fields.Length == 6)
        {
            fields = [.. fields, None, ReadWriteAccess]; // the table of a dmp before dmptab
        }

        if (fields.Length == 8)
        {
            fields = [.. fields, None]; // the table of a dmp before listen= in dmptab
        }

        return fields.Length == 9 && fields[0].StartsWith("nbd", StringComparison.Ordinal) &&
            int.TryParse(fields[0].AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out int index) &&
            long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size > 0 &&
            fields[2].Length > 0 && CacheModes.TryParse(fields[4], out CacheMode cache) &&
            int.TryParse(fields[5], NumberStyles.None, CultureInfo.InvariantCulture, out int connections) && connections > 0 &&
            fields[6].Length > 0 && (fields[7] is ReadWriteAccess or ReadOnlyAccess)
            ? new DeviceRecord(
                index, size, fields[2], fields[3] == None ? null : fields[3], cache, connections, fields[6] == None ? null : fields[6], fields[7] == ReadOnlyAccess,
                fields[8] == None ? null : fields[8])
            : null;
    }
}
