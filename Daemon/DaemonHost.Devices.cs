using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Storage;
using Tmds.Linux;

namespace Dmp.Daemon;

internal sealed partial class DaemonHost
{
    /// <summary>One line about a device, as load and attach print it.</summary>
    private static string Describe(ServedDevice device) => $"{device.Name}: {device.Backing}, {device.Export.Size} bytes";

    /// <summary>Serves <paramref name="store"/> on a new nbd device; the caller holds <see cref="_lifecycle"/>.</summary>
    /// <remarks>On success the device owns the store; on failure the caller still does.</remarks>
    private ServedDevice AttachLocked(IBackingStore store, string? createdFor)
    {
        ServedDevice device = ServedDevice.Attach(_netlink!, store, _statistics, _requests, BackendIdentifier(_run), createdFor);
        _devices.Add(device);
        _catalog.Add(device.Name, device.Export);
        _tree.AddDevice(device.Statistics, () => device.Baseline, device.Backing, device.Export.Size);
        SaveDeviceTable();
        return device;
    }

    /// <summary>Disconnects a device; its counts stay in the module's. The caller holds <see cref="_lifecycle"/>.</summary>
    private void DetachLocked(ServedDevice device)
    {
        _devices.Remove(device);
        _catalog.Remove(device.Name);
        _server?.DisconnectClients(device.Export);
        _tree.RemoveDevice(device.Name);
        if (device.Detach(_netlink!) is { } problem)
        {
            DaemonLog.Write(problem);
        }

        _statistics.RemoveDevice(device.Statistics);
        SaveDeviceTable();
    }

    private void SaveDeviceTable() => DeviceTable.Write(_run.DeviceTable, _devices.Select(device => device.Record));

    /// <summary>stat/reset: zeroes every counter and takes the kernel's counters as each device's new baseline.</summary>
    private void ResetStatistics()
    {
        lock (_lifecycle)
        {
            _statistics.Reset();
            _devices.ForEach(device => device.CaptureBaseline());
        }
    }

    private ServedDevice? FindDevice(string name) => _devices.Find(device => device.Name == name);

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
