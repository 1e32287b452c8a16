using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Storage;

/// <summary>
/// A sparse RAM disk over <see cref="MappedMemory"/>: untouched ranges read as zeroes and cost
/// nothing (<see cref="WrittenPages"/>), and trimmed pages go back to the kernel. Its memory is the
/// process's own, or a file on tmpfs that keeps the disk's contents when the process dies, for the
/// next daemon to take over.
/// </summary>
internal sealed class MemoryStore : IBackingStore
{
    private const int ClearChunk = 1 << 30;

    private readonly MappedMemory _memory;
    private readonly WrittenPages _written;

    /// <summary>Memory of the process's own, gone with it.</summary>
    public MemoryStore(long size)
        : this(MappedMemory.Reserve(size))
    {
    }

    private MemoryStore(MappedMemory memory)
    {
        _memory = memory;
        _memory.Unlock(); // a daemon that locks its memory must still be able to give trimmed pages back
        _written = new WrittenPages(memory.Size);
    }

    /// <summary>Memory kept in <paramref name="path"/> (on tmpfs): made empty when the file does not exist, taken as it is when it does.</summary>
    public static MemoryStore InFile(string path, long size)
    {
        var store = new MemoryStore(MappedMemory.MapFile(path, size, out bool created));
        if (!created)
        {
            // What the daemon before wrote is what the file holds data in: its holes were never written, or trimmed.
            using FileDescriptor file = FileDescriptor.Open(path, LibC.O_RDONLY);
            foreach ((long offset, long length) in PositionalIo.DataRanges(file.Value, size))
            {
                store._written.Mark(offset, length);
            }
        }

        return store;
    }

    public long Size => _memory.Size;

    public bool MayBlock => false;

    public string Description => "memory";

    public int Read(Span<byte> destination, long offset)
    {
        long end = offset + destination.Length;
        for (long start = offset; start < end;)
        {
            long runEnd = _written.EndOfRun(start, end);
            Span<byte> part = destination.Slice((int)(start - offset), (int)(runEnd - start));
            if (_written.IsWritten(start))
            {
                _memory.Slice(start, part.Length).CopyTo(part);
            }
            else
            {
                part.Clear();
            }

            start = runEnd;
        }

        return 0;
    }

    public bool TryGetMemory(long offset, int length, bool forWrite, out Span<byte> memory)
    {
        if (forWrite)
        {
            _written.Mark(offset, length);
        }
        else if (!_written.AllWritten(offset, length))
        {
            memory = default;
            return false; // reading pages never written from the memory itself would give them memory
        }

        memory = _memory.Slice(offset, length);
        return true;
    }

    public int Write(ReadOnlySpan<byte> source, long offset)
    {
        _written.Mark(offset, source.Length);
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

    public void Dispose()
    {
        _memory.Dispose();
        _written.Dispose();
    }

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
        _written.Clear(firstPage, lastPage - firstPage);
        return _memory.Discard(firstPage, lastPage - firstPage);
    }

    /// <summary>Writes zeroes over the range, where it was written: a page that never was reads as zeroes already.</summary>
    private void Clear(long offset, long length)
    {
        for (long end = offset + length; offset < end;)
        {
            long runEnd = _written.EndOfRun(offset, end);
            if (_written.IsWritten(offset))
            {
                ClearMemory(offset, runEnd - offset);
            }

            offset = runEnd;
        }
    }

    private void ClearMemory(long offset, long length)
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
