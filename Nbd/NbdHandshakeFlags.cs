namespace Dmp.Nbd;

/// <summary>NBD_FLAG_FIXED_NEWSTYLE and NBD_FLAG_NO_ZEROES: the server's handshake flags and, as NBD_FLAG_C_*, the client's.</summary>
[Flags]
internal enum NbdHandshakeFlags : uint
{
    None = 0,
    FixedNewstyle = 1 << 0,
    NoZeroes = 1 << 1,
}
