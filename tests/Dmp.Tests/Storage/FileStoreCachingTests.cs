using Dmp.Storage;

namespace Dmp.Tests.Storage;

/// <summary>How a file store reaches its file in each cache mode, on the disk (/var/tmp) and on tmpfs (/dev/shm).</summary>
public sealed class FileStoreCachingTests : IDisposable
{
    private readonly List<string> _files = [];

    public void Dispose() => _files.ForEach(File.Delete);

    [Theory]
    [InlineData("/var/tmp", CacheModes.None, true)]
    [InlineData("/var/tmp", CacheModes.Writeback, true)]
    [InlineData("/dev/shm", CacheModes.None, false)]
    [InlineData("/dev/shm", CacheModes.Writeback, false)]
    public void A_file_on_tmpfs_is_memory_and_never_waits_for_a_device(string directory, string cacheName, bool mayBlock)
    {
        CacheMode cache = CacheModes.Parse(cacheName);
        using FileStore store = FileStore.Open(CreateFile(directory, 1 << 20), cache);

        Assert.Equal(mayBlock, store.MayBlock);
        Assert.Equal(cache, store.Cache);
    }

    [Fact]
    public void Under_writeback_a_read_the_page_cache_holds_is_served_on_the_spot()
    {
        string path = CreateFile("/var/tmp", 1 << 20);
        using FileStore store = FileStore.Open(path, CacheMode.Writeback);
        byte[] written = Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(0, store.Write(written, 65536)); // a buffered write leaves its pages in the cache

        byte[] read = new byte[8192];
        Assert.True(store.TryReadNow(read, 65536));
        Assert.Equal(written, read);
    }

    [Fact]
    public void Under_none_no_read_is_served_on_the_spot_all_go_to_the_device()
    {
        string path = CreateFile("/var/tmp", 1 << 20);
        using FileStore store = FileStore.Open(path, CacheMode.None);
        Assert.Equal(0, store.Write(new byte[4096], 0));

        Assert.False(store.TryReadNow(new byte[4096], 0));
    }

    private string CreateFile(string directory, int length)
    {
        string path = Path.Combine(directory, $"dmp-store-{Guid.NewGuid():N}");
        _files.Add(path);
        File.WriteAllBytes(path, new byte[length]);
        return path;
    }
}
