using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_open_in</c>, 8 bytes: the body of OPEN and OPENDIR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenIn
{
    public int Flags;
    public uint OpenFlags;
}
