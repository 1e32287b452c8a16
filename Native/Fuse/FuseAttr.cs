using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_attr</c>, 88 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public ulong Inode;
    public ulong Size;
    public ulong Blocks;
    public ulong AccessTime;
    public ulong ModificationTime;
    public ulong ChangeTime;
    public uint AccessTimeNanoseconds;
    public uint ModificationTimeNanoseconds;
    public uint ChangeTimeNanoseconds;
    public uint Mode;
    public uint LinkCount;
    public uint Uid;
    public uint Gid;
    public uint DeviceNumber;
    public uint BlockSize;
    public uint Flags;
}
