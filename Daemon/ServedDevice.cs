using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Trace;

namespace Dmp.Daemon;

/// <summary>
/// A kernel nbd device attached to the daemon over one or more socketpairs (the kernel spreads its
/// requests over them, a hardware queue each), and the connections serving them, a thread each.
/// </summary>
internal sealed class ServedDevice
{
    /// <summary>Logical block size: 512 lets 512-byte and 1 KiB direct IO through, as on the original.</summary>
    public const int BlockSize = 512;

    private static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(10);

    private readonly List<NbdConnection> _connections;
    private volatile bool _detaching;

    private ServedDevice(int index, string? createdFor, string baseline, List<NbdConnection> connections)
    {
        Index = index;
        CreatedFor = createdFor;
        Baseline = baseline;
        _connections = connections;
    }

    public int Index { get; }

    public string Name => NameOf(Index);

    public string DevicePath => $"/dev/{Name}";

    /// <summary>What backs the device, as the user named it.</summary>
    public string Backing => Export.Store.Description;

    /// <summary>The dm device <c>dmp create</c> attached this device for, if it did.</summary>
    public string? CreatedFor { get; }

    public NbdExport Export => _connections[0].Export;

    public DeviceStatistics Statistics => Export.Statistics;

    /// <summary>The sockets the kernel has for this device.</summary>
    public int Connections => _connections.Count;

    /// <summary>How its requests are carried out (every connection alike).</summary>
    public NbdRequestPath RequestPath => _connections[0].Path;

    /// <summary>False once the kernel side has gone (disconnected by someone else, or failed).</summary>
    public bool IsConnected => _connections.TrueForAll(connection => !connection.Completion.IsCompleted);

    /// <summary>The kernel's /sys/block/nbdN/stat line when this device's counters were last zeroed.</summary>
    public string Baseline { get; private set; }

    public DeviceRecord Record => new(Index, Export.Size, Backing, CreatedFor);

    public static string NameOf(int index) => $"nbd{index}";

    /// <summary>
    /// Hands one end of each of <paramref name="connections"/> socketpairs to the kernel (NBD_CMD_CONNECT; the
    /// kernel picks a free device) and serves <paramref name="store"/> on the other ends. The kernel's counters
    /// are read before the first reply goes out, so that they and dmp's start from the same moment. On
    /// failure nothing stays attached, and the store is still the caller's.
    /// </summary>
    /// <param name="trace">Where its requests are traced.</param>
    /// <param name="backendIdentifier">Marks the device as ours in /sys/block/nbdN/backend.</param>
    /// <param name="log">Told if the kernel side ends while nobody is detaching the device.</param>
    public static ServedDevice Attach(
        NbdNetlinkClient netlink, IBackingStore store, ModuleStatistics statistics, TraceHub trace, string backendIdentifier, string? createdFor,
        int connections, Action<string> log)
    {
        var ours = new List<FileDescriptor>();
        var theirs = new List<FileDescriptor>();
        var served = new List<NbdConnection>();
        int index = -1;
        DeviceStatistics? deviceStatistics = null;
        try
        {
            for (int i = 0; i < connections; i++)
            {
                (FileDescriptor our, FileDescriptor their) = StreamSocket.CreatePair();
                ours.Add(our);
                theirs.Add(their);
            }

            index = netlink.Connect(new NbdConnectParameters
            {
                SocketFds = theirs.ConvertAll(socket => socket.Value),
                SizeBytes = store.Size,
                BlockSizeBytes = BlockSize,
                ServerFlags = (ushort)NbdExport.FlagsFor(readOnly: false),
                BackendIdentifier = backendIdentifier,
            });

            // Requests the kernel sends before the receivers start wait in the sockets.
            string baseline = SysBlock.Stat(NameOf(index));
            deviceStatistics = statistics.AddDevice(NameOf(index));
            var export = new NbdExport(store, deviceStatistics, trace: trace);
            foreach (FileDescriptor socket in ours)
            {
                served.Add(new NbdConnection(served.Count == 0 ? NameOf(index) : $"{NameOf(index)}.{served.Count}", socket, export));
            }

            var device = new ServedDevice(index, createdFor, baseline, served);
            foreach (NbdConnection connection in served)
            {
                connection.Completion.ContinueWith(
                    ended => device.ReportEnd(connection, ended.Result, log), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                connection.Start();
            }

            return device;
        }
        catch
        {
            if (index >= 0)
            {
                _ = netlink.Disconnect(index);
            }

            if (deviceStatistics is not null)
            {
                statistics.RemoveDevice(deviceStatistics);
            }

            served.ForEach(connection => connection.Dispose()); // each closes its socket
            ours.Skip(served.Count).ToList().ForEach(socket => socket.Dispose());
            throw;
        }
        finally
        {
            theirs.ForEach(socket => socket.Dispose()); // the kernel keeps its own references to the sockets it took
        }
    }

    /// <summary>Takes the kernel's counters as the new baseline, when dmp's are zeroed while the device is idle.</summary>
    public void CaptureBaseline() => Baseline = SysBlock.Stat(Name);

    /// <summary>Disconnects the kernel side, waits for the connection to drain, and closes the store.</summary>
    /// <param name="storeInUse">NBD clients still use the store: leave it open.</param>
    /// <returns>A problem worth logging, or null.</returns>
    public string? Detach(NbdNetlinkClient netlink, bool storeInUse)
    {
        _detaching = true;
        int error = netlink.Disconnect(Index);
        if (!_connections.TrueForAll(connection => connection.Completion.Wait(DisconnectTimeout) || connection.Drain(DisconnectTimeout)))
        {
            return $"{Name}: requests still running after {2 * DisconnectTimeout.TotalSeconds} s; its store stays open";
        }

        _connections.ForEach(connection => connection.Dispose());
        if (!storeInUse)
        {
            Export.Store.Dispose();
        }

        string? failure = _connections.Select(connection => connection.Completion.Result).FirstOrDefault(reason => reason is not null);
        return error != 0 ? $"{Name}: disconnect: {Errno.Describe(error)}" : failure is null ? null : $"{Name}: {failure}";
    }

    private void ReportEnd(NbdConnection connection, string? reason, Action<string> log)
    {
        if (!_detaching)
        {
            log($"{connection.Name}: the kernel ended the connection{(reason is null ? "" : $": {reason}")}; the device no longer serves IO on it");
        }
    }
}
