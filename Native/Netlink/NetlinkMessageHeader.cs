using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary><c>struct nlmsghdr</c> (linux/netlink.h), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetlinkMessageHeader
{
    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Sequence;
    public uint PortId;
}
