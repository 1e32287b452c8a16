using System.Globalization;

namespace Dmp.Cli;

/// <summary>
/// The original's table, <c>"START LENGTH dmp DEVICE"</c>: one dmp target (the original is a singleton
/// target) that covers the device from sector 0.
/// </summary>
internal sealed record DmpTable(ulong Length, string Device)
{
    public const string TargetType = "dmp";

    /// <exception cref="CommandException">The table is not one the original would accept.</exception>
    public static DmpTable Parse(string table)
    {
        if (table.Contains('\n', StringComparison.Ordinal) || table.Contains(';', StringComparison.Ordinal))
        {
            throw new CommandException("invalid table: a dmp device has exactly one target");
        }

        string[] fields = table.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3)
        {
            throw new CommandException($"invalid table '{table}': expected \"START LENGTH {TargetType} DEVICE\"");
        }

        if (!ulong.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start) ||
            !ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong length))
        {
            throw new CommandException($"invalid table '{table}': START and LENGTH are numbers of 512-byte sectors");
        }

        if (fields[2] != TargetType)
        {
            throw new CommandException($"unknown target type '{fields[2]}': dmp create makes {TargetType} targets");
        }

        if (fields.Length != 4)
        {
            throw new CommandException($"invalid number of arguments: the {TargetType} target takes one, the device");
        }

        if (fields[3].Contains('\0', StringComparison.Ordinal))
        {
            throw new CommandException("invalid table: the device's path holds a NUL byte");
        }

        if (start != 0)
        {
            throw new CommandException($"the {TargetType} target must start at sector 0, not {start}");
        }

        return length == 0
            ? throw new CommandException("invalid table: the target's LENGTH is 0")
            : new DmpTable(length, Path.GetFullPath(fields[3]));
    }
}
