using Tmds.Linux;

namespace Dmp.Native.Fuse;

/// <summary>Reading requests from and writing replies to a /dev/fuse descriptor.</summary>
internal static unsafe class FuseDevice
{
    /// <summary>Reads one request.</summary>
    /// <returns>0 with its length; EAGAIN-like errnos to retry (EINTR, EAGAIN, ENOENT: withdrawn); ENODEV once unmounted; or another errno.</returns>
    public static int ReadRequest(int fd, Span<byte> buffer, out int length)
    {
        fixed (byte* start = buffer)
        {
            long read = LibC.read(fd, start, buffer.Length);
            length = (int)Math.Max(0, read);
            return read >= 0 ? 0 : Errno.Last;
        }
    }

    /// <summary>True for the errnos after which the next read may succeed.</summary>
    public static bool IsTransient(int errno) => errno == LibC.EINTR || errno == LibC.EAGAIN || errno == LibC.ENOENT;

    /// <summary>Writes one reply.</summary>
    /// <returns>0; ENOENT when the request was interrupted and its answer is no longer wanted; or another errno.</returns>
    public static int WriteReply(int fd, ReadOnlySpan<byte> reply)
    {
        fixed (byte* start = reply)
        {
            return LibC.write(fd, start, reply.Length) >= 0 ? 0 : Errno.Last;
        }
    }
}
