using System.Runtime.InteropServices;

namespace Dmp.Native.DeviceMapper;

/// <summary><c>struct dm_ioctl</c> (linux/dm-ioctl.h), 312 bytes: the header of every device-mapper ioctl.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DmIoctl
{
    public const int NameLength = 128;
    public const int UuidLength = 129;

    public fixed uint Version[3];
    public uint DataSize;
    public uint DataStart;
    public uint TargetCount;
    public int OpenCount;
    public DmIoctlFlags Flags;
    public uint EventNumber;
    public uint Padding;
    public ulong Device;
    public fixed byte Name[NameLength];
    public fixed byte Uuid[UuidLength];
    public fixed byte Data[7];
}
