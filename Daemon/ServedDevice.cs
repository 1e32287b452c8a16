using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Microsoft.Extensions.ObjectPool;

namespace Dmp.Daemon;

/// <summary>A kernel nbd device attached to the daemon over a socketpair, and the connection serving it.</summary>
internal sealed class ServedDevice : IDisposable
{
    /// <summary>Logical block size: 512 lets 512-byte and 1 KiB direct IO through, as on the original.</summary>
    public const int BlockSize = 512;

    private static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(10);

    private readonly NbdConnection _connection;

    private ServedDevice(int index, string backing, string? createdFor, string baseline, NbdConnection connection)
    {
        Index = index;
        Backing = backing;
        CreatedFor = createdFor;
        Baseline = baseline;
        _connection = connection;
    }

    public int Index { get; }

    public string Name => NameOf(Index);

    public string DevicePath => $"/dev/{Name}";

    /// <summary>What backs the device, as the user named it.</summary>
    public string Backing { get; }

    /// <summary>The dm device <c>dmp create</c> attached this device for, if it did.</summary>
    public string? CreatedFor { get; }

    public NbdExport Export => _connection.Export;

    public DeviceStatistics Statistics => Export.Statistics;

    /// <summary>The kernel's /sys/block/nbdN/stat line when this device's counters were last zeroed.</summary>
    public string Baseline { get; private set; }

    public DeviceRecord Record => new(Index, Export.Size, Backing, CreatedFor);

    public static string NameOf(int index) => $"nbd{index}";

    /// <summary>
    /// Hands one end of a socketpair to the kernel (NBD_CMD_CONNECT; the kernel picks a free device) and
    /// serves <paramref name="store"/> on the other. The kernel's counters are read before the first
    /// reply goes out, so that they and dmp's start from the same moment.
    /// </summary>
    /// <param name="backendIdentifier">Marks the device as ours in /sys/block/nbdN/backend.</param>
    public static ServedDevice Attach(
        NbdNetlinkClient netlink, IBackingStore store, ModuleStatistics statistics, ObjectPool<NbdRequest> requests,
        string backendIdentifier, string? createdFor)
    {
        (FileDescriptor ours, FileDescriptor theirs) = StreamSocket.CreatePair();
        int index;
        try
        {
            using (theirs)
            {
                // The kernel keeps its own reference to the socket; ours can close once it is connected.
                index = netlink.Connect(new NbdConnectParameters
                {
                    SocketFds = [theirs.Value],
                    SizeBytes = store.Size,
                    BlockSizeBytes = BlockSize,
                    ServerFlags = (ushort)NbdExport.FlagsFor(readOnly: false),
                    BackendIdentifier = backendIdentifier,
                });
            }
        }
        catch
        {
            ours.Dispose();
            throw;
        }

        // Requests the kernel sends before the receiver starts wait in the socket.
        string baseline = SysBlock.Stat(NameOf(index));
        var export = new NbdExport(store, statistics.AddDevice(NameOf(index)));
        var connection = new NbdConnection(NameOf(index), ours, export, requests);
        connection.Start();
        return new ServedDevice(index, store.Description, createdFor, baseline, connection);
    }

    /// <summary>Takes the kernel's counters as the new baseline, when dmp's are zeroed while the device is idle.</summary>
    public void CaptureBaseline() => Baseline = SysBlock.Stat(Name);

    /// <summary>Disconnects the kernel side and waits for the connection to drain.</summary>
    /// <returns>A problem worth logging, or null.</returns>
    public string? Detach(NbdNetlinkClient netlink)
    {
        int error = netlink.Disconnect(Index);
        if (!_connection.Completion.Wait(DisconnectTimeout))
        {
            _connection.Abort();
        }

        string? failure = _connection.Completion.IsCompletedSuccessfully ? _connection.Completion.Result : "did not drain in time";
        Dispose();
        return error != 0 ? $"{Name}: disconnect: {Errno.Describe(error)}" : failure is null ? null : $"{Name}: {failure}";
    }

    public void Dispose()
    {
        _connection.Dispose();
        Export.Store.Dispose();
    }
}
