using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

/// <summary>A memory-backed export served on one end of a socketpair, with a test client on the other.</summary>
internal sealed class ServedConnection : IDisposable
{
    private readonly MemoryStore _store;

    public ServedConnection(long size)
    {
        _store = new MemoryStore(size);
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
    }
}
