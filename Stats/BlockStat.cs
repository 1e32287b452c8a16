using System.Globalization;
using System.Text;

namespace Dmp.Stats;

/// <summary>
/// The fields of <c>/sys/block/DEV/stat</c> that dmp can count (Documentation/block/stat.rst):
/// requests and 512-byte sectors per group. Times, merges and in-flight are the kernel's alone.
/// </summary>
internal readonly record struct BlockStat(
    long Reads, long ReadSectors, long Writes, long WriteSectors, long Discards, long DiscardSectors, long Flushes)
{
    public const int SectorSize = 512;

    private const int FieldCount = 17;

    /// <summary>dmp's counters laid out as the kernel accounts the nbd device: WRITE_ZEROES are writes.</summary>
    public static BlockStat FromCounters(IoCounters counters)
    {
        OperationCounters reads = counters[IoOperation.Read];
        OperationCounters writes = counters.Writes;
        OperationCounters discards = counters[IoOperation.Discard];
        return new BlockStat(
            reads.Requests, reads.Bytes / SectorSize, writes.Requests, writes.Bytes / SectorSize,
            discards.Requests, discards.Bytes / SectorSize, counters[IoOperation.Flush].Requests);
    }

    /// <summary>Reads a stat line; fields a kernel does not have (discards before 4.19, flushes before 5.5) read as 0.</summary>
    public static BlockStat Parse(string line)
    {
        string[] text = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int number) => text.Length >= number ? long.Parse(text[number - 1], CultureInfo.InvariantCulture) : 0;
        if (text.Length < 11)
        {
            throw new FormatException($"not a block device stat line: '{line.Trim()}'");
        }

        return new BlockStat(Field(1), Field(3), Field(5), Field(7), Field(12), Field(14), Field(16));
    }

    public static BlockStat operator +(BlockStat left, BlockStat right) => new(
        left.Reads + right.Reads, left.ReadSectors + right.ReadSectors, left.Writes + right.Writes,
        left.WriteSectors + right.WriteSectors, left.Discards + right.Discards, left.DiscardSectors + right.DiscardSectors,
        left.Flushes + right.Flushes);

    public static BlockStat operator -(BlockStat left, BlockStat right) => left + new BlockStat(
        -right.Reads, -right.ReadSectors, -right.Writes, -right.WriteSectors, -right.Discards, -right.DiscardSectors, -right.Flushes);

    /// <summary>As the kernel prints it: 17 fields, each right-aligned in 8 columns; what dmp does not measure is 0.</summary>
    public string Format()
    {
        long[] fields = new long[FieldCount];
        (fields[0], fields[2], fields[4], fields[6]) = (Reads, ReadSectors, Writes, WriteSectors);
        (fields[11], fields[13], fields[15]) = (Discards, DiscardSectors, Flushes);
        var line = new StringBuilder();
        foreach (long field in fields)
        {
            line.Append(line.Length == 0 ? "" : " ").Append(field.ToString(CultureInfo.InvariantCulture).PadLeft(8));
        }

        return line.Append('\n').ToString();
    }

    /// <summary>The counters this stat implies, for the <c>volumes</c> text of a selection of devices.</summary>
    public IoCounters ToCounters()
    {
        IoCounters counters = default;
        counters[IoOperation.Read] = new OperationCounters(Reads, ReadSectors * SectorSize, 0);
        counters[IoOperation.Write] = new OperationCounters(Writes, WriteSectors * SectorSize, 0);
        counters[IoOperation.Discard] = new OperationCounters(Discards, DiscardSectors * SectorSize, 0);
        counters[IoOperation.Flush] = new OperationCounters(Flushes, 0, 0);
        return counters;
    }
}
