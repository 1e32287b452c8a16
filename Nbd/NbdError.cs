using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>The error values a reply may carry (they are Linux errno numbers).</summary>
internal static class NbdError
{
    public const int None = 0;
    public const int NotPermitted = 1;       // EPERM
    public const int InputOutput = 5;        // EIO
    public const int OutOfMemory = 12;       // ENOMEM
    public const int InvalidArgument = 22;   // EINVAL
    public const int NoSpace = 28;           // ENOSPC
    public const int Overflow = 75;          // EOVERFLOW
    public const int NotSupported = 95;      // ENOTSUP
    public const int Shutdown = 108;         // ESHUTDOWN

    /// <summary>Maps a backing store's errno to a value the protocol defines; anything else is EIO.</summary>
    public static int FromErrno(int errno) => errno switch
    {
        0 => None,
        NotPermitted or InputOutput or OutOfMemory or InvalidArgument or NoSpace or Overflow or NotSupported or Shutdown => errno,
        _ when errno == LibC.EROFS || errno == LibC.EACCES => NotPermitted,
        _ when errno == LibC.EDQUOT => NoSpace,
        _ => InputOutput,
    };
}
