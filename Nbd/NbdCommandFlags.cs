namespace Dmp.Nbd;

/// <summary>NBD_CMD_FLAG_* bits of a request.</summary>
[Flags]
internal enum NbdCommandFlags : ushort
{
    None = 0,
    ForceUnitAccess = 1 << 0,
    NoHole = 1 << 1,
    DontFragment = 1 << 2,
    RequestOne = 1 << 3,
    FastZero = 1 << 4,
    PayloadLength = 1 << 5,
}
