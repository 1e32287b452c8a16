using Dmp.Native;

namespace Dmp.Storage;

/// <summary>
/// Which pages of a <see cref="MemoryStore"/> have been written since they were last given back: a bit each. Reading
/// a page that was not needs no memory at all (zeroes), where touching it would cost a page (a read fault on a
/// shared file mapping allocates one). Any connection may mark pages; bits are set and cleared whole words at a time.
/// </summary>
internal sealed unsafe class WrittenPages : IDisposable
{
    private const int PageShift = 12;
    private const int BitsPerWord = 64;

    private readonly MappedMemory _bits;

    public WrittenPages(long size)
    {
        long pages = (size + PageSize - 1) >> PageShift;
        _bits = MappedMemory.Reserve(((pages + BitsPerWord - 1) / BitsPerWord) * sizeof(ulong));
        _bits.Unlock();
    }

    public static long PageSize => 1L << PageShift;

    private ulong* Words => (ulong*)_bits.Start;

    /// <summary>Whether the page holding byte <paramref name="offset"/> was written.</summary>
    public bool IsWritten(long offset)
    {
        long page = offset >> PageShift;
        return (Volatile.Read(ref Words[page / BitsPerWord]) & (1UL << (int)(page % BitsPerWord))) != 0;
    }

    /// <summary>Where the run of pages from <paramref name="offset"/> that are all written, or all not, ends (at most <paramref name="end"/>).</summary>
    public long EndOfRun(long offset, long end)
    {
        bool written = IsWritten(offset);
        long next = ((offset >> PageShift) + 1) << PageShift;
        while (next < end && IsWritten(next) == written)
        {
            next += PageSize;
        }

        return Math.Min(next, end);
    }

    /// <summary>Whether every page of the range was written.</summary>
    public bool AllWritten(long offset, long length) => IsWritten(offset) && EndOfRun(offset, offset + length) == offset + length;

    /// <summary>Marks the pages the range touches as written.</summary>
    public void Mark(long offset, long length) => Change(offset >> PageShift, ((offset + length - 1) >> PageShift) + 1, set: true);

    /// <summary>Marks whole pages as given back: [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>), page-aligned.</summary>
    public void Clear(long offset, long length) => Change(offset >> PageShift, (offset + length) >> PageShift, set: false);

    public void Dispose() => _bits.Dispose();

    private void Change(long firstPage, long endPage, bool set)
    {
        for (long page = firstPage; page < endPage;)
        {
            long word = page / BitsPerWord;
            int first = (int)(page % BitsPerWord);
            int last = (int)Math.Min(BitsPerWord, first + (endPage - page));
            ulong mask = (last - first == BitsPerWord ? ulong.MaxValue : ((1UL << (last - first)) - 1)) << first;
            ulong current = Volatile.Read(ref Words[word]);
            if (set ? (current & mask) != mask : (current & mask) != 0)
            {
                _ = set ? Interlocked.Or(ref Words[word], mask) : Interlocked.And(ref Words[word], ~mask);
            }

            page += last - first;
        }
    }
}
