using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Fuse;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>
/// Taking over from a daemon that died (<c>dmp load</c> when the run directory holds its devices): every device it
/// served that is still ours is served again, from the same backing, with new sockets in place of the dead ones
/// (the kernel kept the device, and the dm devices and mounts on it, and held its IO for <c>--reattach-timeout</c>);
/// its counters count on; the stat tree, the control socket and the listeners come back as they were. A device
/// that cannot be taken over is said so and left as it is, never disconnected.
/// </summary>
internal sealed partial class DaemonHost
{
    private void TakeOver()
    {
        IReadOnlyList<DeviceRecord> records = DeviceTable.Read(_run.DeviceTable, out IReadOnlyList<string> unreadable);
        foreach (string line in unreadable)
        {
            DaemonLog.Warning($"{line}: left alone");
        }

        // The mount of the daemon that died answers nothing (ENOTCONN) until it is taken away.
        _ = FuseMount.Unmount(_run.ModuleMount);
        StartServices();
        lock (_lifecycle)
        {
            foreach (DeviceRecord record in records)
            {
                TakeOverLocked(record);
            }

            SaveDeviceTable();
        }

        // Sockets of a device the table does not list (it cannot happen, short of the table edited by hand) are closed.
        foreach (FileDescriptor socket in _handedOverSockets?.Values.SelectMany(device => device.Sockets) ?? [])
        {
            socket.Dispose();
        }
    }

    /// <summary>Serves one device of the daemon that died again, or says why not; the caller holds <see cref="_lifecycle"/>.</summary>
    private void TakeOverLocked(DeviceRecord record)
    {
        string backend = SysBlock.Exists(record.Name) ? SysBlock.Backend(record.Name) : "";
        if (backend != BackendIdentifier(_run))
        {
            DaemonLog.Warning($"{record.Name}: not taken over: it is no longer ours (its backend is '{backend}'), so it is left alone and no longer listed");
            return;
        }

        ServedDevice device;
        try
        {
            IBackingStore store = OpenStore(record);
            try
            {
                device = _handedOverSockets?.Remove(record.Name, out var handed) == true
                    ? ServedDevice.Adopt(_kernel!, record, store, _statistics, handed.Sockets, handed.Unread)
                    : ServedDevice.Reattach(_kernel!, record, store, _statistics);
                Register(device);
            }
            catch
            {
                store.Dispose();
                throw;
            }
        }
        catch (Exception exception) when (exception is NativeException or InvalidOperationException or IOException or InvalidDataException)
        {
            DaemonLog.Warning($"{record.Name}: not taken over, left as it is: {exception.Message}");
            _leftAlone.Add(record);
            return;
        }

        if (record.Listen is { } listen)
        {
            ListenAgainLocked(device, record.Declared ?? record.Name, listen);
        }
    }

    /// <summary>A device's own listener back where it was; if it cannot be, the device is served without it, and says so.</summary>
    private void ListenAgainLocked(ServedDevice device, string exportName, string address)
    {
        try
        {
            ListenLocked(device, exportName, NbdListenAddress.Parse(address));
        }
        catch (Exception exception) when (exception is NativeException or FormatException)
        {
            DaemonLog.Warning($"{device.Name}: no longer listening on {address}: {exception.Message} (a dmp reload listens again)");
        }
    }

    /// <summary>The store a device was served from, as its daemon left it: a memory backing's contents are in the run directory.</summary>
    private IBackingStore OpenStore(DeviceRecord record)
    {
        BackingSpec backing = BackingSpec.Parse(record.Backing);
        string? memoryFile = backing.Kind == BackingKind.Memory ? _run.MemoryFile(record.Name) : null;
        if (memoryFile is not null && !File.Exists(memoryFile))
        {
            throw new InvalidOperationException($"its memory backing is gone from {memoryFile}");
        }

        IBackingStore store = backing.Open(record.Size, record.Cache, record.ReadOnly, memoryFile);
        if (store.Size != record.Size)
        {
            store.Dispose();
            throw new InvalidOperationException($"{record.Backing} now holds {store.Size} bytes, not the {record.Size} the device has");
        }

        return store;
    }

    /// <summary>"nbd0: re-attached (memory, 1073741824 bytes)": a device taken over from a daemon that died, as load prints
    /// it; "handed over" for one a running daemon handed over.</summary>
    private string DescribeTakenOver(ServedDevice device) =>
        $"{device.Name}: {(_handedOverSockets is null ? "re-attached" : "handed over")} ({device.Backing}, {device.Export.Size} bytes)";
}
