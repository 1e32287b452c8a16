using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_out_header</c>, 16 bytes: precedes every reply; an error reply is this alone.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public uint Length;
    public int Error;
    public ulong Unique;
}
