using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_open_out</c>, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public ulong FileHandle;
    public FuseOpenReplyFlags OpenFlags;
    public int BackingId;
}
