using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Storage;

/// <summary>
/// A sparse RAM disk over <see cref="MappedMemory"/>: untouched ranges read as zeroes and cost
/// nothing, and trimmed pages go back to the kernel. Its memory is the process's own, or a file on
/// tmpfs that keeps the disk's contents when the process dies, for the next daemon to take over.
/// </summary>
internal sealed class MemoryStore : IBackingStore
{
    private const int ClearChunk = 1 << 30;

    private readonly MappedMemory _memory;

    /// <summary>Memory of the process's own, gone with it.</summary>
    public MemoryStore(long size) => _memory = MappedMemory.Reserve(size);

    private MemoryStore(MappedMemory memory) => _memory = memory;

    /// <summary>Memory kept in <paramref name="path"/> (on tmpfs): made empty when the file does not exist, taken as it is when it does.</summary>
    public static MemoryStore InFile(string path, long size) => new(MappedMemory.MapFile(path, size, out _));

    public long Size => _memory.Size;

    public bool MayBlock => false;

    public string Description => "memory";

    public int Read(Span<byte> destination, long offset)
    {
        _memory.Slice(offset, destination.Length).CopyTo(destination);
        return 0;
    }

    public bool TryGetMemory(long offset, int length, out Span<byte> memory)
    {
        memory = _memory.Slice(offset, length);
        return true;
    }

    public int Write(ReadOnlySpan<byte> source, long offset)
    {
        source.CopyTo(_memory.Slice(offset, source.Length));
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

    public void Dispose() => _memory.Dispose();

    /// <summary>Returns whole pages to the kernel (they then read as zeroes) and zeroes the partial ends.</summary>
    private int Deallocate(long offset, long length)
    {
        long pageSize = MappedMemory.PageSize;
        long end = offset + length;
        long firstPage = (offset + pageSize - 1) / pageSize * pageSize;
        long lastPage = end / pageSize * pageSize;
        if (firstPage >= lastPage)
        {
            Clear(offset, length);
            return 0;
        }

        Clear(offset, firstPage - offset);
        Clear(lastPage, end - lastPage);
        return _memory.Discard(firstPage, lastPage - firstPage);
    }

    private void Clear(long offset, long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, ClearChunk);
            _memory.Slice(offset, chunk).Clear();
            offset += chunk;
            length -= chunk;
        }
    }
}
