using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Dmp.Native;
using Dmp.Nbd;
using Dmp.Stats;

namespace Dmp.Trace;

/// <summary>
/// A trace record as a line of text, fields separated by one space, as <c>trace</c> shows it and <c>dmp trace</c> reads it:
/// <code>TIME DEVICE CONNECTION OPERATION OFFSET LENGTH FLAGS LATENCY_US RESULT RULE</code>
/// e.g. <c>1764748835.123456 nbd0 1 write 1048576 4096 FUA 52 0 -</c>: seconds since the epoch when the reply was
/// sent, the device, its connection, the operation as the stat files name it, the byte offset and length, the
/// request's flags (<c>-</c> for none), the service time in microseconds, <c>0</c> or the errno name of the reply,
/// and the fault rule that acted (<c>-</c> for none). Lines lost by a slow reader are told by a line of their own,
/// <c># lost N lines</c>.
/// </summary>
internal static class TraceLine
{
    /// <summary>Room enough for any line.</summary>
    public const int MaxLength = 512;

    /// <summary>No line is shorter: "1764748835.123456 nbd0 0 read 0 1 - 0 0 -".</summary>
    public const int MinLength = 40;

    public const string LostPrefix = "# lost ";

    /// <summary>Where fields are, counting from 0, for <see cref="Field"/>.</summary>
    public const int DeviceField = 1;
    public const int OperationField = 3;
    public const int LatencyField = 7;

    private const string None = "-";

    /// <summary>The wall clock and the stopwatch read together once, to turn the one into the other.</summary>
    private static readonly long EpochMicrosecondsAtStart = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
    private static readonly long StopwatchAtStart = Stopwatch.GetTimestamp();

    private static readonly (NbdCommandFlags Flag, string Name)[] FlagNames =
    [
        (NbdCommandFlags.ForceUnitAccess, "FUA"), (NbdCommandFlags.NoHole, "NO_HOLE"), (NbdCommandFlags.DontFragment, "DF"),
        (NbdCommandFlags.RequestOne, "REQ_ONE"), (NbdCommandFlags.FastZero, "FAST_ZERO"), (NbdCommandFlags.PayloadLength, "PAYLOAD_LEN"),
    ];

    private static readonly string?[] ErrorNames = new string?[256];

    /// <summary>Writes the record's line, newline included, into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes).</summary>
    /// <returns>Its length in bytes.</returns>
    public static int Format(in TraceRecord record, Span<byte> destination)
    {
        long microseconds = EpochMicrosecondsAtStart + (long)((record.CompletedAt - StopwatchAtStart) * (1_000_000.0 / Stopwatch.Frequency));
        string rule = record.Rule == 0 ? None : record.Rule.ToString(CultureInfo.InvariantCulture);
        bool written = Utf8.TryWrite(
            destination, CultureInfo.InvariantCulture,
            $"{microseconds / 1_000_000}.{microseconds % 1_000_000:D6} {record.Device} {record.Connection} {IoOperations.NameOf(record.Operation)} {record.Offset} {record.Length} ",
            out int length);
        length += WriteFlags(record.Flags, destination[length..]);
        written &= Utf8.TryWrite(
            destination[length..], CultureInfo.InvariantCulture,
            $" {record.ServiceNanoseconds / 1000} {ErrorName(record.Error)} {rule}\n", out int tail);
        Debug.Assert(written, "a line fits MaxLength");
        return length + tail;
    }

    /// <summary>The line that tells a reader how many lines it lost.</summary>
    public static int FormatLost(long lost, Span<byte> destination)
    {
        _ = Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{LostPrefix}{lost} lines\n", out int length);
        return length;
    }

    /// <summary>Reads a line back (without its newline).</summary>
    /// <returns>Null when it is not a trace line.</returns>
    public static TraceEntry? Parse(string line)
    {
        string[] fields = line.Split(' ');
        if (fields.Length != 10 ||
            !decimal.TryParse(fields[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal time) ||
            !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int connection) ||
            !long.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out long offset) ||
            !uint.TryParse(fields[5], NumberStyles.None, CultureInfo.InvariantCulture, out uint length) ||
            !long.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out long latency) ||
            (fields[9] != None && !int.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            return null;
        }

        return new TraceEntry(
            time, fields[1], connection, fields[3], offset, length, fields[6] == None ? [] : fields[6].Split(','),
            latency, fields[8], fields[9] == None ? null : int.Parse(fields[9], CultureInfo.InvariantCulture));
    }

    /// <summary>Field <paramref name="index"/> of a line's bytes (empty past the last).</summary>
    public static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> line, int index)
    {
        for (; index > 0; index--)
        {
            int space = line.IndexOf((byte)' ');
            line = space < 0 ? default : line[(space + 1)..];
        }

        int end = line.IndexOf((byte)' ');
        return end < 0 ? line : line[..end];
    }

    /// <summary>How many lines a <c># lost N lines</c> line says were lost.</summary>
    /// <returns>Null when the line is not one.</returns>
    public static long? ParseLost(string line) =>
        line.StartsWith(LostPrefix, StringComparison.Ordinal) && line.EndsWith(" lines", StringComparison.Ordinal) &&
        long.TryParse(line[LostPrefix.Length..^" lines".Length], NumberStyles.None, CultureInfo.InvariantCulture, out long lost)
            ? lost
            : null;

    /// <summary>"FUA", "NO_HOLE,FAST_ZERO", "-".</summary>
    private static int WriteFlags(NbdCommandFlags flags, Span<byte> destination)
    {
        if (flags == NbdCommandFlags.None)
        {
            return Encoding.ASCII.GetBytes(None, destination);
        }

        int length = 0;
        foreach ((NbdCommandFlags flag, string name) in FlagNames)
        {
            if ((flags & flag) != 0)
            {
                length += Encoding.ASCII.GetBytes(length == 0 ? name : "," + name, destination[length..]);
                flags &= ~flag;
            }
        }

        if (flags != NbdCommandFlags.None)
        {
            _ = Utf8.TryWrite(destination[length..], CultureInfo.InvariantCulture, $"{(length == 0 ? "" : ",")}0x{(ushort)flags:x}", out int unknown);
            length += unknown;
        }

        return length;
    }

    /// <summary>"0", or the errno's name (looked up once per errno).</summary>
    private static string ErrorName(int error) => error switch
    {
        0 => "0",
        > 0 and < 256 => ErrorNames[error] ??= Errno.NameOf(error),
        _ => error.ToString(CultureInfo.InvariantCulture),
    };
}
