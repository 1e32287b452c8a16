using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

/// <summary>An export served on one end of a socketpair, with a test client on the other.</summary>
internal sealed class ServedConnection : IDisposable
{
    private readonly IBackingStore _store;
    private readonly string? _file;

    /// <param name="backing">"memory", which the connection serves inline on its receiving thread, or "file"
    /// (a file under /tmp), which may block and is served on the thread pool.</param>
    public ServedConnection(long size, string backing = "memory")
    {
        if (backing == "file")
        {
            _file = Path.Combine(Path.GetTempPath(), $"dmp-connection-{Guid.NewGuid():N}");
            using (FileStream stream = File.Create(_file))
            {
                stream.SetLength(size);
            }
        }

        _store = BackingSpec.Parse(_file ?? backing).Open(size);
        (FileDescriptor server, FileDescriptor client) = StreamSocket.CreatePair();
        Connection = new NbdConnection("test", server, new NbdExport(_store, Statistics));
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
