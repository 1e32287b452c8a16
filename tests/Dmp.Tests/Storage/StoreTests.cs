using Dmp.Storage;

namespace Dmp.Tests.Storage;

public sealed class StoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dmp-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_memory_store_reads_zeroes_where_nothing_was_written()
    {
        using var store = new MemoryStore(1L << 30);
        byte[] data = Enumerable.Repeat((byte)0x5a, 4096).ToArray();
        Assert.Equal(0, store.Read(data, (1L << 30) - 4096));
        Assert.All(data, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_memory_store_kept_in_a_file_keeps_its_data_for_the_next_and_gives_trimmed_pages_back()
    {
        string path = Path.Combine("/dev/shm", $"dmp-memory-{Guid.NewGuid():N}");
        try
        {
            byte[] data = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7)).ToArray();
            using (MemoryStore first = MemoryStore.InFile(path, 64 << 20))
            {
                Assert.Equal(0, first.Write(data, 4 << 20));
                Assert.Equal(0, first.Write(data, 8 << 20));
            }

            long written = AllocatedBytes(path);
            using MemoryStore next = MemoryStore.InFile(path, 64 << 20);
            byte[] read = new byte[1 << 20];
            Assert.Equal(0, next.Read(read, 4 << 20));
            Assert.Equal(data, read);

            Assert.Equal(0, next.Read(read, 8 << 20));
            Assert.Equal(data, read);
            Assert.Equal(0, next.Read(new byte[16 << 20], 32 << 20)); // never written: reading it costs no memory
            Assert.Equal(written, AllocatedBytes(path));

            Assert.Equal(0, next.Trim(4 << 20, 1 << 20));

            Assert.InRange(AllocatedBytes(path), 0, written - (1 << 20));
            Assert.Equal(0, next.Read(read, 4 << 20));
            Assert.All(read, b => Assert.Equal(0, b));
            Assert.False(next.TryGetMemory(4 << 20, 1 << 20, forWrite: false, out _)); // trimmed: read it through Read
            Assert.True(next.TryGetMemory(8 << 20, 1 << 20, forWrite: false, out Span<byte> inPlace));
            Assert.Equal(data, inPlace.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_zero_store_reads_zeroes_and_drops_writes()
    {
        using var store = new ZeroStore(1 << 20);
        Assert.Equal(0, store.Write(Enumerable.Repeat((byte)1, 512).ToArray(), 0));
        byte[] data = Enumerable.Repeat((byte)0x5a, 512).ToArray();
        Assert.Equal(0, store.Read(data, 0));
        Assert.All(data, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_file_store_has_the_files_size_and_its_data()
    {
        string path = Path.Combine(_directory, "disk");
        byte[] content = Enumerable.Range(0, 8192).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(path, content);

        using FileStore store = FileStore.Open(path, CacheMode.None);
        Assert.Equal(8192, store.Size);
        Assert.Equal(path, store.Description);
        byte[] read = new byte[4096];
        Assert.Equal(0, store.Read(read, 4096));
        Assert.Equal(content[4096..], read);

        Assert.Equal(0, store.Write(new byte[512], 0));
        Assert.Equal(0, store.Flush());
        Assert.All(File.ReadAllBytes(path)[..512], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Trimming_a_file_store_punches_a_hole_that_reads_as_zeroes()
    {
        string path = Path.Combine(_directory, "disk");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xff, 1 << 20).ToArray());
        long allocatedBefore = AllocatedBytes(path);

        using (FileStore store = FileStore.Open(path, CacheMode.None))
        {
            Assert.Equal(0, store.Trim(0, 1 << 19));
            Assert.Equal(0, store.WriteZeroes(1 << 19, 4096, mayDeallocate: false, fastOnly: false));
        }

        byte[] after = File.ReadAllBytes(path);
        Assert.Equal(1 << 20, after.Length);
        Assert.All(after[..((1 << 19) + 4096)], b => Assert.Equal(0, b));
        Assert.All(after[((1 << 19) + 4096)..], b => Assert.Equal(0xff, b));
        Assert.True(AllocatedBytes(path) < allocatedBefore, "the trimmed range no longer takes space");
    }

    [Fact]
    public void A_path_that_is_neither_a_file_nor_a_block_device_is_refused()
    {
        var error = Assert.Throws<Dmp.Native.NativeException>(() => FileStore.Open("/dev/null", CacheMode.None));
        Assert.Contains("not a regular file or a block device", error.Message);
    }

    [Fact]
    public void A_missing_file_is_refused_with_its_name()
    {
        var error = Assert.Throws<Dmp.Native.NativeException>(() => FileStore.Open(Path.Combine(_directory, "absent"), CacheMode.None));
        Assert.Equal($"open {Path.Combine(_directory, "absent")}: No such file or directory", error.Message);
    }

    [Theory]
    [InlineData("memory", "Memory")]
    [InlineData("zero", "Zero")]
    [InlineData("/var/disk.img", "File")]
    public void Backing_arguments_name_their_kind(string text, string kind)
    {
        BackingSpec spec = BackingSpec.Parse(text);
        Assert.Equal(kind, spec.Kind.ToString());
        Assert.Equal(text, spec.ToString());
    }

    [Fact]
    public void A_relative_backing_path_is_made_absolute()
    {
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "disk.img"), BackingSpec.Parse("disk.img").Path);
    }

    private static unsafe long AllocatedBytes(string path)
    {
        Tmds.Linux.stat status;
        fixed (byte* name = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
        {
            Assert.Equal(0, Tmds.Linux.LibC.stat(name, &status));
        }

        return (long)status.st_blocks * 512;
    }
}
