namespace Dmp.Stats;

/// <summary>
/// Compares what dmp counted with what the kernel counted for the same nbd devices, as the original's
/// <c>dmp_check.py</c> compares its module with <c>/sys/block/dm-N/stat</c>.
/// </summary>
internal static class ConsistencyCheck
{
    /// <summary>One line per disagreeing field; none when dmp and the kernel agree.</summary>
    /// <param name="dmp">dmp's counters, summed over the devices checked.</param>
    /// <param name="kernel">The kernel's counters over the same span (now minus the baseline), summed likewise.</param>
    /// <param name="inFlightAtTakeovers">Requests the kernel had in flight when sockets of the devices were replaced in that span
    /// (a new daemon took them over, or the kernel gave one up).</param>
    public static IReadOnlyList<string> Compare(BlockStat dmp, BlockStat kernel, long inFlightAtTakeovers = 0)
    {
        // A flush reaches nbd as an empty request, and the block layer counts it as a write of
        // 0 sectors as well as a flush (field 16). dmp sees an NBD_CMD_FLUSH, which is not a write.
        long kernelWrites = kernel.Writes - kernel.Flushes;
        (string Field, long Dmp, long Kernel)[] fields =
        [
            ("reads", dmp.Reads, kernel.Reads),
            ("read sectors", dmp.ReadSectors, kernel.ReadSectors),
            ("writes", dmp.Writes, kernelWrites),
            ("write sectors", dmp.WriteSectors, kernel.WriteSectors),
            ("discards", dmp.Discards, kernel.Discards),
            ("discard sectors", dmp.DiscardSectors, kernel.DiscardSectors),
            ("flushes", dmp.Flushes, kernel.Flushes),
        ];
        var mismatches = fields.Where(field => field.Dmp != field.Kernel)
            .Select(field => $"{field.Field}: dmp {field.Dmp}, kernel {field.Kernel}")
            .ToList();

        // Concurrent flushes can be merged before they are sent: the kernel then counts more empty
        // flush requests than flushes, and no server sees the difference. Say so when nothing else differs.
        if (mismatches.Count == 1 && kernelWrites > dmp.Writes)
        {
            mismatches[0] += $" ({kernelWrites - dmp.Writes} more empty flush requests than flushes sent: the block layer merged concurrent flushes)";
        }

        // A daemon that dies, or a socket the kernel gives up, may have counted a request and not sent its answer: the
        // kernel sends it again on the new socket, it is counted again, and the kernel counts it once. Say so when that
        // explains it all.
        long[] surplus = [dmp.Reads - kernel.Reads, dmp.Writes - kernelWrites, dmp.Discards - kernel.Discards, dmp.Flushes - kernel.Flushes];
        if (mismatches.Count > 0 && inFlightAtTakeovers > 0 && surplus.All(extra => extra >= 0) && surplus.Sum() <= inFlightAtTakeovers)
        {
            mismatches.Add(
                $"{inFlightAtTakeovers} requests were in flight when a socket was replaced (a new daemon took over, or the kernel gave one up): " +
                "those counted but not answered on the old socket were sent again, and counted twice");
        }

        return mismatches;
    }
}
