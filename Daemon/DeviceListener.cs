using Dmp.Nbd;

namespace Dmp.Daemon;

/// <summary>
/// A device's own NBD listener (a dmptab line's <c>listen=ADDR</c>): that device alone, as the export its line
/// names (also the default export), for clients that should reach it and no other device. It listens from the
/// moment it is made, so that a reload can know the address is free before it changes anything; the export
/// comes once the device is attached, and a client that connects before gets no export.
/// </summary>
internal sealed class DeviceListener : IDisposable
{
    private readonly NbdExportCatalog _catalog;
    private readonly NbdServer _server;
    private bool _disposed;

    private DeviceListener(NbdListenAddress address, NbdExportCatalog catalog, NbdServer server)
    {
        Address = address;
        _catalog = catalog;
        _server = server;
    }

    public NbdListenAddress Address { get; }

    /// <summary>False once a client could not be ended in time (see <see cref="NbdServer.AllClientsEnded"/>).</summary>
    public bool AllClientsEnded => _server.AllClientsEnded;

    /// <param name="startServer">How the daemon starts an NBD server on addresses, for a catalog.</param>
    public static DeviceListener Listen(NbdListenAddress address, Func<IReadOnlyList<NbdListenAddress>, NbdExportCatalog, NbdServer> startServer)
    {
        var catalog = new NbdExportCatalog();
        return new DeviceListener(address, catalog, startServer([address], catalog));
    }

    public void Export(string name, NbdExport export) => _catalog.Add(name, export);

    /// <summary>Stops listening and ends every client, waiting for them; once (an unload stops it, then detaches its device).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _server.Dispose();
        }
    }
}
