using System.Globalization;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>
/// One line of the device table: an nbd device, its size in bytes, what backs it, the dm device it was created
/// for, how its backing is reached and how many sockets the kernel has for it: what a daemon that takes over
/// needs to serve it again.
/// </summary>
internal sealed record DeviceRecord(int Index, long Size, string Backing, string? CreatedFor, CacheMode Cache, int Connections)
{
    private const char Separator = '\t';
    private const string None = "-";

    public string Name => ServedDevice.NameOf(Index);

    /// <summary>"nbd1 TAB 524288 TAB /dev/mapper/zero1 TAB dmp1 TAB none TAB 2": tab-separated, so paths may hold spaces.</summary>
    public override string ToString() =>
        string.Join(Separator, Name, Size, Backing, CreatedFor ?? None, Cache.Name(), Connections.ToString(CultureInfo.InvariantCulture));

    /// <returns>Null for a line that is not one.</returns>
    public static DeviceRecord? TryParse(string line)
    {
        string[] fields = line.Split(Separator);
        if (fields.Length == 4)
        {
            fields = [.. fields, CacheModes.None, "1"]; // the table of a dmp before cache modes and sockets per device
        }

        return fields.Length == 6 && fields[0].StartsWith("nbd", StringComparison.Ordinal) &&
            int.TryParse(fields[0].AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out int index) &&
            long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size > 0 &&
            fields[2].Length > 0 && CacheModes.TryParse(fields[4], out CacheMode cache) &&
            int.TryParse(fields[5], NumberStyles.None, CultureInfo.InvariantCulture, out int connections) && connections > 0
            ? new DeviceRecord(index, size, fields[2], fields[3] == None ? null : fields[3], cache, connections)
            : null;
    }
}
