namespace Dmp.Storage;

/// <summary>Like dm-zero: reads return zeroes and writes are dropped.</summary>
internal sealed class ZeroStore : IBackingStore
{
    public ZeroStore(long size) => Size = size;

    public long Size { get; }

    public bool MayBlock => false;

    public string Description => "zero";

    public int Read(Span<byte> destination, long offset)
    {
        destination.Clear();
        return 0;
    }

    public int Write(ReadOnlySpan<byte> source, long offset) => 0;

    public int Flush() => 0;

    public int Trim(long offset, long length) => 0;

    public int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly) => 0;

    public void Dispose()
    {
    }
}
