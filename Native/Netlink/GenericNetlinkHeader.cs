using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary><c>struct genlmsghdr</c> (linux/genetlink.h), 4 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GenericNetlinkHeader
{
    public byte Command;
    public byte Version;
    public ushort Reserved;
}
