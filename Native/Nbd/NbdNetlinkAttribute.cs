namespace Dmp.Native.Nbd;

/// <summary>Attributes of the "nbd" generic-netlink family (linux/nbd-netlink.h).</summary>
internal enum NbdNetlinkAttribute : ushort
{
    Index = 1,
    SizeBytes = 2,
    BlockSizeBytes = 3,
    Timeout = 4,
    ServerFlags = 5,
    ClientFlags = 6,
    Sockets = 7,
    DeadConnectionTimeout = 8,
    DeviceList = 9,
    BackendIdentifier = 10,

}
