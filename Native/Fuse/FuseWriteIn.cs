using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_write_in</c>, 40 bytes; the data follows it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseWriteIn
{
    public ulong FileHandle;
    public ulong Offset;
    public uint Size;
    public uint WriteFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}
