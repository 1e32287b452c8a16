using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// Memory mapped without commitment (MAP_NORESERVE): untouched pages read as zeroes and cost nothing, and
/// discarded pages go back to the kernel. Either anonymous (it dies with the process) or a shared mapping of
/// a file (on tmpfs: memory that outlives the process, for the next one to map again).
/// </summary>
internal sealed unsafe class MappedMemory : IDisposable
{
    private readonly bool _shared;
    private byte* _start;

    private MappedMemory(byte* start, long size, bool shared)
    {
        _start = start;
        Size = size;
        _shared = shared;
    }

    ~MappedMemory() => Release();

    public long Size { get; }

    public static long PageSize { get; } = Environment.SystemPageSize;

    /// <summary>The first byte, for structures laid out in the mapping; the caller keeps this object alive while using it.</summary>
    public byte* Start => _start;

    /// <summary>Anonymous private memory, gone with the process.</summary>
    public static MappedMemory Reserve(long size) =>
        Map(size, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, $"reserve {size} bytes of memory", shared: false);

    /// <summary>
    /// <paramref name="path"/>'s first <paramref name="size"/> bytes, shared with the file: created (sparse, all
    /// zeroes) when it does not exist, taken as it is when it does, which must then be <paramref name="size"/> bytes.
    /// </summary>
    /// <param name="created">Whether the file was made just now.</param>
    public static MappedMemory MapFile(string path, long size, out bool created)
    {
        FileDescriptor? fd = FileDescriptor.TryOpen(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL, out int errno, 0x180 /* 0600 */);
        created = fd is not null;
        fd ??= errno == LibC.EEXIST ? FileDescriptor.Open(path, LibC.O_RDWR) : throw new NativeException($"create {path}", errno);
        using (fd)
        {
            (_, _, long existing) = PositionalIo.Describe(fd.Value, path);
            int error = created ? PositionalIo.Truncate(fd.Value, size) : existing == size ? 0 : LibC.EINVAL;
            if (error != 0)
            {
                throw new NativeException(created ? $"size {path}" : $"{path} holds {existing} bytes, not {size}", error);
            }

            return Map(size, LibC.MAP_SHARED, fd.Value, $"map {path}", shared: true);
        }
    }

    /// <summary>
    /// Takes the mapping out of the process's memory lock (<see cref="MemoryPressure.LockAll"/> locks every mapping made
    /// after it): a RAM disk's pages are data, not the daemon's own working memory, and pages that are locked cannot be
    /// given back (<see cref="Discard"/> fails with EINVAL).
    /// </summary>
    public void Unlock() => _ = LibC.munlock(_start, (size_t)(ulong)Size);

    /// <summary>The bytes at <paramref name="offset"/>; the caller keeps within <see cref="Size"/> and 2 GiB.</summary>
    public Span<byte> Slice(long offset, int length) => new(_start + offset, length);

    /// <summary>Gives whole pages back: they read as zeroes from then on (MADV_DONTNEED for anonymous memory,
    /// MADV_REMOVE, a hole punched in the file, for a shared one).</summary>
    /// <returns>0 or errno.</returns>
    public int Discard(long pageAlignedOffset, long pageAlignedLength) =>
        Errno.Of(LibC.madvise(_start + pageAlignedOffset, (size_t)(ulong)pageAlignedLength, _shared ? LibC.MADV_REMOVE : LibC.MADV_DONTNEED));

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private static MappedMemory Map(long size, int flags, int fd, string operation, bool shared)
    {
        void* mapping = LibC.mmap(null, (size_t)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE, flags | LibC.MAP_NORESERVE, fd, 0);
        return mapping == LibC.MAP_FAILED ? throw NativeException.FromLast(operation) : new MappedMemory((byte*)mapping, size, shared);
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
