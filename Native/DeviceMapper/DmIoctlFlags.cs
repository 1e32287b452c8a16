namespace Dmp.Native.DeviceMapper;

/// <summary><c>DM_*_FLAG</c> bits of <see cref="DmIoctl.Flags"/>.</summary>
[Flags]
internal enum DmIoctlFlags : uint
{
    None = 0,
    ReadOnly = 1 << 0,
    Suspend = 1 << 1,
    PersistentDevice = 1 << 3,
    StatusTable = 1 << 4,
    ActivePresent = 1 << 5,
    InactivePresent = 1 << 6,
    BufferFull = 1 << 8,
}
