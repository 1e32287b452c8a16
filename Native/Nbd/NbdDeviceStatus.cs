namespace Dmp.Native.Nbd;

/// <summary>One entry of NBD_CMD_STATUS: a device index and whether a server is connected to it.</summary>
internal readonly record struct NbdDeviceStatus(int Index, bool Connected);
