namespace Dmp.Native.Nbd;

/// <summary>Commands of the "nbd" generic-netlink family (linux/nbd-netlink.h).</summary>
internal enum NbdNetlinkCommand : byte
{
    Connect = 1,
    Disconnect = 2,
    Reconfigure = 3,
    LinkDead = 4,
    Status = 5,
}
