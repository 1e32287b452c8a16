using Dmp.Native.IoUring;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

/// <summary>A file store whose WRITE_ZEROES takes a while when it runs on a worker, as on a device that writes
/// them by hand; the rest, the ring's WRITE_ZEROES included, is the file's own.</summary>
internal sealed class SlowZeroesStore(FileStore file, TimeSpan delay) : IRingStore
{
    public long Size => file.Size;

    public string Description => file.Description;

    public bool MayBlock => file.MayBlock;

    public ReadOnlySpan<int> Descriptors => file.Descriptors;

    public int Read(Span<byte> destination, long offset) => file.Read(destination, offset);

    public int Write(ReadOnlySpan<byte> source, long offset) => file.Write(source, offset);

    public int Flush() => file.Flush();

    public int Trim(long offset, long length) => file.Trim(offset, length);

    public int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly)
    {
        Thread.Sleep(delay);
        return file.WriteZeroes(offset, length, mayDeallocate, fastOnly);
    }

    public bool TryReadNow(Span<byte> destination, long offset) => file.TryReadNow(destination, offset);

    public void PrepareRead(ref IoUringSubmissionEntry entry, Span<byte> destination, long offset, ulong userData) =>
        file.PrepareRead(ref entry, destination, offset, userData);

    public void PrepareWrite(ref IoUringSubmissionEntry entry, ReadOnlySpan<byte> source, long offset, bool forceUnitAccess, ulong userData) =>
        file.PrepareWrite(ref entry, source, offset, forceUnitAccess, userData);

    public void PrepareFlush(ref IoUringSubmissionEntry entry, ulong userData) => file.PrepareFlush(ref entry, userData);

    public bool CanPrepareTrim => file.CanPrepareTrim;

    public void PrepareTrim(ref IoUringSubmissionEntry entry, long offset, long length, ulong userData) =>
        file.PrepareTrim(ref entry, offset, length, userData);

    public void PrepareWriteZeroes(ref IoUringSubmissionEntry entry, long offset, long length, bool mayDeallocate, ulong userData) =>
        file.PrepareWriteZeroes(ref entry, offset, length, mayDeallocate, userData);

    public void Dispose() => file.Dispose();
}
