using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_setattr_in</c>, 88 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetAttrIn
{
    public FuseSetAttrValid Valid;
    public uint Padding;
    public ulong FileHandle;
    public ulong Size;
    public ulong LockOwner;
    public ulong AccessTime;
    public ulong ModificationTime;
    public ulong ChangeTime;
    public uint AccessTimeNanoseconds;
    public uint ModificationTimeNanoseconds;
    public uint ChangeTimeNanoseconds;
    public uint Mode;
    public uint Unused4;
    public uint Uid;
    public uint Gid;
    public uint Unused5;
}
