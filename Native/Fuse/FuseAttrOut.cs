using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_attr_out</c>, 104 bytes: the reply to GETATTR and SETATTR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public ulong AttrValidSeconds;
    public uint AttrValidNanoseconds;
    public uint Dummy;
    public FuseAttr Attr;
}
