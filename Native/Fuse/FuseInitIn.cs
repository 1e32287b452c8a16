using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary>The part of <c>struct fuse_init_in</c> that every protocol minor sends (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
}
