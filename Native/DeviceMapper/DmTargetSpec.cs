using System.Runtime.InteropServices;

namespace Dmp.Native.DeviceMapper;

/// <summary><c>struct dm_target_spec</c>, 40 bytes; the target's NUL-terminated parameters follow it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DmTargetSpec
{
    public const int TargetTypeLength = 16;

    public ulong SectorStart;
    public ulong Length;
    public int Status;
    public uint Next;
    public fixed byte TargetType[TargetTypeLength];
}
