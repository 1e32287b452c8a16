using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Sysfs;
using Tmds.Linux;

namespace Dmp.Daemon;

internal sealed partial class DaemonHost
{
    /// <summary>
    /// One line about a device, as load and attach print it: "nbd0: memory, 1073741824 bytes"; a device a dmptab line
    /// declared is named by it, with its dm device and whether it is read-only: "disk0: nbd0, memory, 1073741824 bytes, /dev/mapper/disk0".
    /// </summary>
    private string Describe(ServedDevice device) =>
        device.Declared is not { } declared ? $"{device.Name}: {device.Backing}, {device.Export.Size} bytes" : $"{declared}: {Details(device)}";

    /// <summary>
    /// "nbd0, memory, 1073741824 bytes, /dev/mapper/disk0, read-only, listening on unix:/run/disk0.sock": a declared device,
    /// as load and reload describe it.
    /// </summary>
    private string Details(ServedDevice device) =>
        $"{device.Name}, {device.Backing}, {device.Export.Size} bytes" +
        (device.CreatedFor is { } mapped ? $", {MapperPath(mapped)}" : "") + (device.Export.ReadOnly ? ", read-only" : "") +
        (_deviceListeners.GetValueOrDefault(device.Name) is { } listener ? $", listening on {listener.Address}" : "");

    /// <summary>
    /// Serves <paramref name="store"/> on a new nbd device. Takes the store in every case: on failure it is
    /// closed here and nothing stays attached. The caller holds <see cref="_lifecycle"/>.
    /// </summary>
    /// <param name="memoryFile">Where a memory store keeps its contents until the device has a name (<see cref="NewMemoryFile"/>), or null.</param>
    /// <param name="declared">The dmptab NAME of the line that declares the device, or null.</param>
    private ServedDevice AttachLocked(
        IBackingStore store, string? createdFor, int connections, string? memoryFile = null, string? declared = null, bool readOnly = false)
    {
        ServedDevice device;
        try
        {
            device = !_stopped
                ? ServedDevice.Attach(_kernel!, store, _statistics, createdFor, connections, declared, readOnly)
                : throw new InvalidOperationException("dmp is being unloaded");
        }
        catch
        {
            store.Dispose();
            DeleteMemoryFile(memoryFile);
            throw;
        }

        try
        {
            if (memoryFile is not null)
            {
                File.Move(memoryFile, _run.MemoryFile(device.Name), overwrite: true);
            }

            Register(device);
            return device;
        }
        catch
        {
            DeleteMemoryFile(memoryFile);
            DetachLocked(device);
            throw;
        }
    }

    /// <summary>Lists a device the daemon serves now: in the device list, the exports, the stat tree and the device table.</summary>
    private void Register(ServedDevice device)
    {
        _devices.Add(device);
        _catalog.Add(device.Name, device.Export); // also the device list the FUSE thread reads, without the lifecycle lock
        _tree.AddDevice(new DeviceFiles(
            device.Statistics, device.Export.Faults, device.Backing, device.Export.Size, () => device.Statistics.KernelBaseline,
            () => HoldersOf([device.Name]), () => _ = device.Statistics.SnapshotAndReset()));
        SaveDeviceTable();
    }

    /// <summary>A file for a memory backing to keep its contents in, named until its device has a name; null for other backings.</summary>
    private string? NewMemoryFile(BackingSpec backing)
    {
        if (backing.Kind != BackingKind.Memory)
        {
            return null;
        }

        Directory.CreateDirectory(_run.MemoryDirectory);
        return _run.MemoryFile($"new-{Guid.NewGuid():N}");
    }

    private static void DeleteMemoryFile(string? path)
    {
        if (path is not null)
        {
            File.Delete(path);
        }
    }

    /// <summary>Detaches a device unless something holds it, claiming it exclusively through the detach.</summary>
    /// <param name="inUse">Why it stays, when it does.</param>
    /// <param name="output">Where to say that its store did not answer some requests in time (<see cref="DetachLocked"/>).</param>
    /// <returns>False when the device is in use and stays attached.</returns>
    private bool TryDetachLocked(ServedDevice device, out string inUse, List<string>? output = null)
    {
        if (!TryClaim(device, out FileDescriptor? claim, out inUse))
        {
            return false;
        }

        using (claim)
        {
            if (DetachLocked(device) is { } unanswered)
            {
                output?.Add(unanswered);
            }
        }

        return true;
    }

    /// <summary>Disconnects a device and closes its store; its counts stay in the module's. The caller holds <see cref="_lifecycle"/>.</summary>
    /// <param name="deadline">Until when to wait for the store to answer the requests it has begun (a disk that hangs may
    /// never): by default <see cref="ServedDevice.UnansweredTimeout"/> from now.</param>
    /// <returns>Null, or a line for the user: the store did not answer in time, and is closed once it does.</returns>
    private string? DetachLocked(ServedDevice device, DateTime? deadline = null)
    {
        DateTime until = deadline ?? DateTime.UtcNow + ServedDevice.UnansweredTimeout;
        _devices.Remove(device);
        _catalog.Remove(device.Name);
        bool clientsEnded = _server?.DisconnectClients(device.Export, until) ?? true;
        if (_deviceListeners.Remove(device.Name, out DeviceListener? listener))
        {
            clientsEnded &= listener.Stop(until);
        }

        _tree.RemoveDevice(device.Name);
        if (device.Detach(_kernel!.Netlink, storeInUse: !clientsEnded, until, DaemonLog.Warning, out string? unanswered) is { } problem)
        {
            DaemonLog.Warning(problem);
        }

        // Requests still running count into the device's counters when they end; so may an NBD client's that did not end.
        _statistics.RemoveDevice(device.Statistics, stillCounting: unanswered is not null || !clientsEnded);
        KeepIfWaitingForStore(device);
        _run.RemoveDeviceFiles(device.Name);
        SaveDeviceTable();
        return unanswered;
    }

    /// <summary>The device-mapper devices on the named devices, as links to their /sys/block entries (the stat tree's holders/).</summary>
    private static List<(string Name, string Target)> HoldersOf(IEnumerable<string> devices) =>
        devices.SelectMany(SysBlock.Holders).Distinct().Select(holder => (SysBlock.DmName(holder) ?? holder, $"/sys/block/{holder}")).ToList();

    /// <summary>The device table: what is served, and what was left alone of a daemon that died; and systemd's status line.</summary>
    private void SaveDeviceTable()
    {
        DeviceTable.Write(_run.DeviceTable, [.. _devices.Select(RecordOf), .. _leftAlone]);
        if (!_stopped)
        {
            _notifier.Status(ServiceStatus());
        }
    }

    /// <summary>A device's line in the device table, with its own listener's address.</summary>
    private DeviceRecord RecordOf(ServedDevice device) =>
        device.Record with { Listen = _deviceListeners.GetValueOrDefault(device.Name)?.Address.ToString() };

    /// <summary>
    /// Serves a device to NBD clients at <paramref name="address"/> too, as export <paramref name="exportName"/>, replacing a
    /// listener it had; the caller holds <see cref="_lifecycle"/>.
    /// </summary>
    /// <param name="listening">Listening already at <paramref name="address"/> (a reload binds before it changes anything), or null.</param>
    private void ListenLocked(ServedDevice device, string exportName, NbdListenAddress address, DeviceListener? listening = null)
    {
        DeviceListener listener = listening ?? DeviceListener.Listen(address, StartNbdServer);
        listener.Export(exportName, device.Export);
        if (_deviceListeners.Remove(device.Name, out DeviceListener? before))
        {
            before.Dispose();
        }

        _deviceListeners[device.Name] = listener;
        SaveDeviceTable();
    }

    /// <summary>What systemd shows as the service's status: "serving 2 devices: nbd0, nbd1".</summary>
    private string ServiceStatus() =>
        $"serving {_devices.Count} device{(_devices.Count == 1 ? "" : "s")}{(_devices.Count > 0 ? ": " : "")}{string.Join(", ", _devices.Select(device => device.Name))}";

    /// <summary>stat/reset: zeroes every counter and takes the kernel's counters as each device's new baseline.</summary>
    private void ResetStatistics() => _ = ClearStatistics(null);

    /// <summary>Runs a step of clean-up that must not stop the steps after it; a failure is logged.</summary>
    private static void BestEffort(string step, Action action)
    {
        try
        {
            action();
        }
        catch (Exception exception)
        {
            DaemonLog.Error($"{step}: {exception.Message}");
        }
    }

    private ServedDevice? FindDevice(string name) => _devices.Find(device => device.Name == name);

    /// <summary>
    /// A served device as a user names it: nbdK (or /dev/nbdK), the dm device <c>create</c> made for it, or any
    /// dm device (by name or /dev/mapper path) that maps it and no other served device.
    /// </summary>
    private ServedDevice? ResolveDevice(string name)
    {
        string bare = name.StartsWith("/dev/mapper/", StringComparison.Ordinal) ? name["/dev/mapper/".Length..]
            : name.StartsWith("/dev/", StringComparison.Ordinal) ? name["/dev/".Length..] : name;
        lock (_lifecycle)
        {
            if (_devices.Find(device => device.Name == bare || device.CreatedFor == bare) is { } found)
            {
                return found;
            }

            IReadOnlyList<string> below = SysBlock.FindDm(bare) is { } kernelName ? SysBlock.Slaves(kernelName) : [];
            List<ServedDevice> mapped = _devices.Where(device => below.Contains(device.Name)).ToList();
            return mapped.Count == 1 ? mapped[0] : null;
        }
    }

    /// <summary>The device number of a served device, as device-mapper tables and dependencies name it.</summary>
    private static DeviceNumber NumberOf(ServedDevice device) =>
        DeviceNodes.NumberOf(device.DevicePath)
        ?? throw new InvalidOperationException($"{device.DevicePath} is not a block device node");

    /// <summary>
    /// Opens a device exclusively, as rmmod checks a module's refcount: this fails while a dm table or a
    /// mounted file system holds it, and while the claim is held nothing else can take the device.
    /// </summary>
    /// <param name="claim">The claim to hold; null when the node could not be opened for another reason.</param>
    /// <param name="inUse">Why the device is in use, when it is.</param>
    /// <returns>False when something holds the device.</returns>
    private static bool TryClaim(ServedDevice device, out FileDescriptor? claim, out string inUse)
    {
        claim = FileDescriptor.TryOpen(device.DevicePath, LibC.O_RDONLY | LibC.O_EXCL, out int errno);
        inUse = claim is null && errno == LibC.EBUSY ? InUseMessage(device.Name) : "";
        return inUse.Length == 0;
    }

    /// <summary>Names what holds a device, as rmmod names the modules that use one.</summary>
    private static string InUseMessage(string device)
    {
        string[] holders = SysBlock.Holders(device).Select(DescribeHolder).ToArray();
        return holders.Length > 0
            ? $"{device} is held by {string.Join(", ", holders)}"
            : $"{device} is open exclusively (mounted?)";
    }

    private static string DescribeHolder(string holder) => SysBlock.DmName(holder) is { } name ? $"{holder} ({name})" : holder;
}
