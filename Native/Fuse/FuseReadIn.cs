using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_read_in</c>, 40 bytes: the body of READ and READDIR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReadIn
{
    public ulong FileHandle;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}
