namespace Dmp.Native.DeviceMapper;

/// <summary>A device-mapper device as DM_DEV_STATUS describes it.</summary>
internal sealed record DmDevice(string Name, DeviceNumber Device, int OpenCount, int TargetCount)
{
    /// <summary>The kernel's name for it, as in /sys/block.</summary>
    public string KernelName => $"dm-{Device.Minor}";
}
