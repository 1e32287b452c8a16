namespace Dmp.Native.DeviceMapper;

/// <summary>The device-mapper ioctls dmp uses: <c>_IOWR(0xfd, n, struct dm_ioctl)</c> = 0xC138FD00 + n.</summary>
internal enum DmCommand : uint
{
    Version = 0xC138FD00,
    ListDevices = 0xC138FD02,
    DeviceCreate = 0xC138FD03,
    DeviceRemove = 0xC138FD04,
    DeviceSuspend = 0xC138FD06,
    DeviceStatus = 0xC138FD07,
    TableLoad = 0xC138FD09,
    TableDependencies = 0xC138FD0B,
    TableStatus = 0xC138FD0C,
}
