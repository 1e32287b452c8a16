using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary><c>struct nlattr</c> (linux/netlink.h), 4 bytes; the payload follows, padded to 4.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetlinkAttributeHeader
{
    public ushort Length;
    public ushort Type;
}
