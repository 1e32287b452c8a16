namespace Dmp.Nbd;

/// <summary>NBD_FLAG_* bits a server advertises for an export.</summary>
[Flags]
internal enum NbdTransmissionFlags : ushort
{
    None = 0,
    HasFlags = 1 << 0,
    ReadOnly = 1 << 1,
    SendFlush = 1 << 2,
    SendFua = 1 << 3,
    Rotational = 1 << 4,
    SendTrim = 1 << 5,
    SendWriteZeroes = 1 << 6,
    SendDontFragment = 1 << 7,
    CanMultiConnection = 1 << 8,
    SendResize = 1 << 9,
    SendCache = 1 << 10,
    SendFastZero = 1 << 11,
    BlockStatusPayload = 1 << 12,
}
