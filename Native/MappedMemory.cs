using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// An anonymous private mapping reserved without commitment (MAP_NORESERVE): untouched pages read as
/// zeroes and cost nothing, and discarded pages go back to the kernel.
/// </summary>
internal sealed unsafe class AnonymousMemory : IDisposable
{
    private byte* _start;

    private AnonymousMemory(byte* start, long size)
    {
        _start = start;
        Size = size;
    }

    ~AnonymousMemory() => Release();

    public long Size { get; }

    public static long PageSize { get; } = Environment.SystemPageSize;

    public static AnonymousMemory Reserve(long size)
    {
        void* mapping = LibC.mmap(
            null, (size_t)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        return mapping == LibC.MAP_FAILED
            ? throw NativeException.FromLast($"reserve {size} bytes of memory")
            : new AnonymousMemory((byte*)mapping, size);
    }

    /// <summary>The bytes at <paramref name="offset"/>; the caller keeps within <see cref="Size"/> and 2 GiB.</summary>
    public Span<byte> Slice(long offset, int length) => new(_start + offset, length);

    /// <summary>Gives whole pages back (MADV_DONTNEED): they read as zeroes from then on.</summary>
    /// <returns>0 or errno.</returns>
    public int Discard(long pageAlignedOffset, long pageAlignedLength) =>
        Errno.Of(LibC.madvise(_start + pageAlignedOffset, (size_t)(ulong)pageAlignedLength, LibC.MADV_DONTNEED));

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (_start != null)
        {
            _ = LibC.munmap(_start, (size_t)(ulong)Size);
            _start = null;
        }
    }
}
