using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary><c>struct sockaddr_nl</c> (linux/netlink.h), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetlinkSocketAddress
{
    public ushort Family;
    public ushort Padding;
    public uint PortId;
    public uint Groups;
}
