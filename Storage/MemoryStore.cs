using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Storage;

/// <summary>
/// A sparse RAM disk: one anonymous mapping reserved without commitment, so untouched ranges
/// read as zeroes and cost nothing, and trimmed pages go back to the kernel.
/// </summary>
internal sealed unsafe class MemoryStore : IBackingStore
{
    private readonly byte* _base;
    private readonly long _pageSize = Environment.SystemPageSize;

    public MemoryStore(long size)
    {
        void* mapping = LibC.mmap(
            null, (size_t)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (mapping == LibC.MAP_FAILED)
        {
            throw NativeException.FromLast($"reserve {size} bytes of memory");
        }

        _base = (byte*)mapping;
        Size = size;
    }

    public long Size { get; }

    public string Description => "memory";

    public int Read(Span<byte> destination, long offset)
    {
        new ReadOnlySpan<byte>(_base + offset, destination.Length).CopyTo(destination);
        return 0;
    }

    public int Write(ReadOnlySpan<byte> source, long offset, bool forceUnitAccess)
    {
        source.CopyTo(new Span<byte>(_base + offset, source.Length));
        return 0;
    }

    public int Flush() => 0;

    public int Trim(long offset, long length) => Deallocate(offset, length);

    public int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly)
    {
        if (mayDeallocate)
        {
            return Deallocate(offset, length);
        }

        // Keeping the pages means writing the zeroes into them: no faster than a write.
        if (fastOnly)
        {
            return LibC.ENOTSUP;
        }

        Clear(offset, length);
        return 0;
    }

    public void Dispose() => _ = LibC.munmap(_base, (size_t)(ulong)Size);

    /// <summary>Returns whole pages to the kernel (they then read as zeroes) and zeroes the partial ends.</summary>
    private int Deallocate(long offset, long length)
    {
        long end = offset + length;
        long firstPage = (offset + _pageSize - 1) / _pageSize * _pageSize;
        long lastPage = end / _pageSize * _pageSize;
        if (firstPage >= lastPage)
        {
            Clear(offset, length);
            return 0;
        }

        Clear(offset, firstPage - offset);
        Clear(lastPage, end - lastPage);
        return LibC.madvise(_base + firstPage, (size_t)(ulong)(lastPage - firstPage), LibC.MADV_DONTNEED) == 0 ? 0 : Errno.Last;
    }

    private void Clear(long offset, long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, 1 << 30);
            new Span<byte>(_base + offset, chunk).Clear();
            offset += chunk;
            length -= chunk;
        }
    }
}
