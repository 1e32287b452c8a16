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

    private ServedDevice(int index, BackingSpec backing, NbdConnection connection)
    {
        Index = index;
        Backing = backing;
        _connection = connection;
    }

    public int Index { get; }

    public string Name => $"nbd{Index}";

    public string DevicePath => $"/dev/{Name}";

    public BackingSpec Backing { get; }

    public NbdExport Export => _connection.Export;

    public DeviceRecord Record => new(Index, Export.Size, Backing.ToString());

    /// <summary>Hands one end of a socketpair to the kernel (NBD_CMD_CONNECT) and serves the other.</summary>
    /// <param name="backendIdentifier">Marks the device as ours in /sys/block/nbdN/backend.</param>
    public static ServedDevice Attach(
        NbdNetlinkClient netlink, BackingSpec backing, NbdExport export, ObjectPool<NbdRequest> requests, string backendIdentifier)
    {
        (FileDescriptor ours, FileDescriptor theirs) = UnixSocket.CreatePair();
        int index;
        try
        {
            using (theirs)
            {
                // The kernel keeps its own reference to the socket; ours can close once it is connected.
                index = netlink.Connect(new NbdConnectParameters
                {
                    SocketFds = [theirs.Value],
                    SizeBytes = export.Size,
                    BlockSizeBytes = BlockSize,
                    ServerFlags = (ushort)export.TransmissionFlags,
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
        var connection = new NbdConnection($"nbd{index}", ours, export, requests);
        connection.Start();
        return new ServedDevice(index, backing, connection);
    }

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
