using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Native.Fuse;
using Dmp.Native.Nbd;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// <c>dmp unload --force</c>: stops a daemon that will not unload (SIGTERM, then SIGKILL) and removes
/// what a dead one left: the dm devices <c>create</c> made (unless they are open), its nbd devices,
/// its stat mount, its files.
/// </summary>
internal static class ForcedUnload
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    /// <returns>False when there was nothing to clean up.</returns>
    public static bool Run(RunDirectory run, DaemonState state)
    {
        if (state.Status == DaemonStatus.Running && !Stop(state.Pid))
        {
            throw new InvalidOperationException($"the daemon (pid {state.Pid}) did not stop");
        }

        bool found = state.Status != DaemonStatus.NotLoaded;
        found |= DisconnectDevices(run);
        found |= FuseMount.Unmount(run.ModuleMount) == 0;
        if (Directory.Exists(run.Path))
        {
            run.RemoveDaemonFiles();
            File.Delete(run.PidFile);
            run.RemoveIfEmpty();
        }

        return found;
    }

    private static bool Stop(int pid)
    {
        _ = Processes.Signal(pid, LibC.SIGTERM);
        if (Processes.WaitForExit(pid, StopTimeout))
        {
            return true;
        }

        _ = Processes.Signal(pid, LibC.SIGKILL);
        return Processes.WaitForExit(pid, StopTimeout);
    }

    /// <summary>Disconnects the listed devices that still carry this run directory's backend mark.</summary>
    private static bool DisconnectDevices(RunDirectory run)
    {
        IReadOnlyList<DeviceRecord> devices = DeviceTable.Read(run.DeviceTable, out _);
        if (devices.Count == 0)
        {
            return false;
        }

        RemoveCreatedMappings(devices);

        using NbdNetlinkClient? netlink = NbdNetlinkClient.TryOpen();
        foreach (DeviceRecord device in devices)
        {
            if (netlink is not null && SysBlock.Backend(device.Name) == DaemonHost.BackendIdentifier(run))
            {
                _ = netlink.Disconnect(device.Index);
            }
        }

        return true;
    }

    /// <summary>Removes the dm devices <c>create</c> made; an open one stays, and its nbd device then fails its IO.</summary>
    private static void RemoveCreatedMappings(IReadOnlyList<DeviceRecord> devices)
    {
        string[] names = devices.Select(device => device.CreatedFor).OfType<string>().ToArray();
        if (names.Length == 0 || !File.Exists(DeviceMapperControl.ControlPath))
        {
            return;
        }

        using DeviceMapperControl deviceMapper = DeviceMapperControl.Open();
        foreach (string name in names)
        {
            if (deviceMapper.Find(name) is { } mapped && deviceMapper.Remove(name) == 0)
            {
                DeviceNodes.RemoveBlockNode(DaemonHost.MapperPath(name), mapped.Device);
            }
        }
    }
}
