using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_in_header</c>, 40 bytes: precedes every request read from /dev/fuse.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public uint Length;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtensionLength;
    public ushort Padding;
}
