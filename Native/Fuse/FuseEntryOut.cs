using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_entry_out</c>, 128 bytes: the reply to LOOKUP.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValidSeconds;
    public ulong AttrValidSeconds;
    public uint EntryValidNanoseconds;
    public uint AttrValidNanoseconds;
    public FuseAttr Attr;
}
