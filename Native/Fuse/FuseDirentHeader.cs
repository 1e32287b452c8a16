using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_dirent</c> without its name, 24 bytes; the name follows, padded to 8.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirentHeader
{
    public ulong Inode;
    public ulong NextOffset;
    public uint NameLength;
    public uint Type;
}
