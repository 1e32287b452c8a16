using Dmp.Native.IoUring;

namespace Dmp.Storage;

/// <summary>
/// A store whose reads, writes and flushes can be started on an io_uring, to complete there: every
/// request in flight is then in flight at the device, with no thread waiting for it. The store fills
/// in the submission (which descriptor, which flags); whoever owns the ring submits it and reports the
/// completion. Whatever else the store does runs through <see cref="IBackingStore"/>'s methods.
/// </summary>
internal interface IRingStore : IBackingStore
{
    /// <summary>The descriptors its entries name, for the ring to hold as fixed files (<see cref="IoRing.RegisterFiles"/>).</summary>
    ReadOnlySpan<int> Descriptors { get; }

    /// <summary>
    /// Reads now, on the caller's thread, when that cannot wait for the device (all of it is in the page
    /// cache): a hit then costs one system call and no trip round the ring.
    /// </summary>
    /// <returns>True when all of it was read; false when the read would wait, failed, or the store cannot tell: start it on the ring instead.</returns>
    bool TryReadNow(Span<byte> destination, long offset);

    /// <summary>A read of <paramref name="destination"/>'s length at <paramref name="offset"/>; the memory must not move (native).</summary>
    void PrepareRead(ref IoUringSubmissionEntry entry, Span<byte> destination, long offset, ulong userData);

    /// <summary>A write of <paramref name="source"/> at <paramref name="offset"/>, durable on completion with <paramref name="forceUnitAccess"/>.</summary>
    void PrepareWrite(ref IoUringSubmissionEntry entry, ReadOnlySpan<byte> source, long offset, bool forceUnitAccess, ulong userData);

    /// <summary>Whether <see cref="PrepareTrim"/> can carry a TRIM: a file's can (a hole punched); a block
    /// device's is a discard, which io_uring has no operation for before Linux 6.12.</summary>
    bool CanPrepareTrim { get; }

    /// <summary>A TRIM, as <see cref="IBackingStore.Trim"/>; a failure is for the caller to run through <see cref="IBackingStore.Trim"/>, which knows what may fail.</summary>
    void PrepareTrim(ref IoUringSubmissionEntry entry, long offset, long length, ulong userData);

    /// <summary>A WRITE_ZEROES, as <see cref="IBackingStore.WriteZeroes"/> with the device's own way of zeroing; a
    /// failure (say, a file system without it) is for the caller to run through <see cref="IBackingStore.WriteZeroes"/>.</summary>
    void PrepareWriteZeroes(ref IoUringSubmissionEntry entry, long offset, long length, bool mayDeallocate, ulong userData);

    /// <summary>Makes every completed write durable, as <see cref="IBackingStore.Flush"/>.</summary>
    void PrepareFlush(ref IoUringSubmissionEntry entry, ulong userData);
}
