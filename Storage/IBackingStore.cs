namespace Dmp.Storage;

/// <summary>
/// Where requests land. Callers have already checked that every range lies inside <see cref="Size"/>.
/// Methods return 0 or an errno instead of throwing: they run on the request path.
/// </summary>
internal interface IBackingStore : IDisposable
{
    long Size { get; }

    /// <summary>What backs the device, as the user named it: "memory", "zero" or a path.</summary>
    string Description { get; }

    /// <summary>
    /// True when a request may wait on a device (a file, a disk): the connection then runs requests on
    /// worker threads, many at a time. False when requests only touch memory and finish in microseconds:
    /// the connection then runs them itself, with no hand-off between threads.
    /// </summary>
    bool MayBlock { get; }

    int Read(Span<byte> destination, long offset);

    /// <summary>The store's own memory for a range, for a caller that reads or fills it in place; false
    /// when the store does not lie in memory (the default), or reading it in place would cost it memory.
    /// Writing into it is a write, with no durability to add.</summary>
    /// <param name="forWrite">The caller fills the memory (a write), rather than reads it.</param>
    bool TryGetMemory(long offset, int length, bool forWrite, out Span<byte> memory)
    {
        memory = default;
        return false;
    }

    int Write(ReadOnlySpan<byte> source, long offset);

    /// <summary>Makes every completed write durable.</summary>
    int Flush();

    /// <summary>The range's contents are no longer needed; reads may return anything (NBD_CMD_TRIM).</summary>
    int Trim(long offset, long length);

    /// <summary>The range must read back as zeroes.</summary>
    /// <param name="mayDeallocate">The store may free the space (false for NBD_CMD_FLAG_NO_HOLE).</param>
    /// <param name="fastOnly">Fail with ENOTSUP rather than write zeroes the slow way (NBD_CMD_FLAG_FAST_ZERO).</param>
    int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly);
}
