using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

/// <summary>An export served on one end of a socketpair, with a test client on the other.</summary>
internal sealed class ServedConnection : IDisposable
{
    /// <summary>
    /// A backing on every request path: a memory store and files on tmpfs, in both cache modes (served inline);
    /// files on the disk in both cache modes (on io_uring); and a file on the thread pool, where io_uring is not to be had.
    /// </summary>
    public static readonly string[] Backings = ["memory", "disk-none", "disk-writeback", "tmpfs-none", "tmpfs-writeback", "disk-thread-pool"];

    private readonly IBackingStore _store;
    private readonly string? _file;

    /// <param name="backing">"memory" or "zero", or one of <see cref="Backings"/>' files: "disk-" (under /var/tmp)
    /// or "tmpfs-" (under /dev/shm), then a cache mode or "thread-pool" (no io_uring, cache mode none).</param>
    /// <param name="slowZeroes">How long each WRITE_ZEROES takes (<see cref="SlowZeroesStore"/>), for a file backing.</param>
    public ServedConnection(long size, string backing = "memory", TimeSpan slowZeroes = default)
    {
        bool allowRing = true;
        CacheMode cache = CacheMode.None;
        if (backing.Split('-', 2) is [string fileSystem and ("disk" or "tmpfs"), string mode])
        {
            _file = Path.Combine(fileSystem == "disk" ? "/var/tmp" : "/dev/shm", $"dmp-connection-{Guid.NewGuid():N}");
            using (FileStream stream = File.Create(_file))
            {
                stream.SetLength(size);
            }

            allowRing = mode != "thread-pool";
            cache = allowRing ? CacheModes.Parse(mode) : CacheMode.None;
        }

        _store = BackingSpec.Parse(_file ?? backing).Open(size, cache);
        if (slowZeroes > TimeSpan.Zero)
        {
            _store = new SlowZeroesStore((FileStore)_store, slowZeroes);
        }

        (FileDescriptor server, FileDescriptor client) = StreamSocket.CreatePair();
        Connection = new NbdConnection("test", server, new NbdExport(_store, Statistics), allowRing);
        Assert.Equal(
            backing is "memory" or "zero" || backing.StartsWith("tmpfs-", StringComparison.Ordinal) ? NbdRequestPath.Inline
            : allowRing ? NbdRequestPath.Ring : NbdRequestPath.ThreadPool,
            Connection.Path);
        Connection.Start();
        Client = new NbdTestClient(client);
    }

    public DeviceStatistics Statistics { get; } = new ModuleStatistics().AddDevice("test");

    public NbdConnection Connection { get; }

    public NbdTestClient Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        Connection.Dispose();
        _store.Dispose();
        if (_file is not null)
        {
            File.Delete(_file);
        }
    }
}
