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

    private DeviceListener(NbdListenAddress address, NbdExportCatalog catalog, NbdServer server)
    {
        Address = address;
        _catalog = catalog;
        _server = server;
    }

    public NbdListenAddress Address { get; }

    /// <param name="startServer">How the daemon starts an NBD server on addresses, for a catalog.</param>
    public static DeviceListener Listen(NbdListenAddress address, Func<IReadOnlyList<NbdListenAddress>, NbdExportCatalog, NbdServer> startServer)
    {
        var catalog = new NbdExportCatalog();
        return new DeviceListener(address, catalog, startServer([address], catalog));
    }

    public void Export(string name, NbdExport export) => _catalog.Add(name, export);

    /// <summary>Stops listening and ends every client, waiting for them until <paramref name="deadline"/>; once (an unload
    /// stops it, then detaches its device).</summary>
    /// <returns>False when a client still runs a request by then, so its store must stay open.</returns>
    public bool Stop(DateTime deadline) => _server.Stop(deadline);

    public void Dispose() => _server.Dispose();
}
