using System.Net;
using System.Net.Sockets;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>Listening stream sockets (Unix or TCP) and the options dmp sets on the connections it accepts.</summary>
internal static unsafe class SocketListener
{
    private const int Backlog = 128;
    private const int TcpLevel = 6;   // IPPROTO_TCP
    private const int TcpNoDelay = 1; // TCP_NODELAY

    /// <summary>Binds and listens on <paramref name="endPoint"/>; a Unix socket file nobody listens on any more is replaced.</summary>
    public static FileDescriptor Listen(EndPoint endPoint)
    {
        int family = endPoint.AddressFamily switch
        {
            AddressFamily.Unix => LibC.AF_UNIX,
            AddressFamily.InterNetwork => LibC.AF_INET,
            AddressFamily.InterNetworkV6 => LibC.AF_INET6,
            _ => throw new ArgumentException($"cannot listen on {endPoint}", nameof(endPoint)),
        };
        if (endPoint is UnixDomainSocketEndPoint unix)
        {
            RemoveStaleSocket(unix.ToString());
        }

        FileDescriptor fd = FileDescriptor.FromResult(LibC.socket(family, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0), $"socket for {endPoint}");
        try
        {
            if (family != LibC.AF_UNIX)
            {
                SetOption(fd.Value, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1);
            }

            // .NET serializes an end point as the platform's own sockaddr.
            SocketAddress address = endPoint.Serialize();
            fixed (byte* bytes = address.Buffer.Span)
            {
                if (LibC.bind(fd.Value, (sockaddr*)bytes, address.Size) != 0)
                {
                    throw NativeException.FromLast($"bind {endPoint}");
                }
            }

            return LibC.listen(fd.Value, Backlog) == 0 ? fd : throw NativeException.FromLast($"listen on {endPoint}");
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a connection.</summary>
    /// <returns>The connection, or null with errno once the listener is shut down (EINVAL) or fails.</returns>
    public static FileDescriptor? Accept(int listener, out int errno)
    {
        while (true)
        {
            int fd = LibC.accept4(listener, null, null, LibC.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                errno = 0;
                return new FileDescriptor(fd);
            }

            errno = Errno.Last;
            if (errno != LibC.EINTR && errno != LibC.ECONNABORTED)
            {
                return null;
            }
        }
    }

    /// <summary>Sends small replies at once rather than waiting to fill a segment (a no-op on Unix sockets).</summary>
    public static void SetNoDelay(int fd) => _ = SetOption(fd, TcpLevel, TcpNoDelay, 1);

    /// <summary>Makes blocking sends give up (EAGAIN) after <paramref name="timeout"/> with no progress; zero waits forever.</summary>
    public static void SetSendTimeout(int fd, TimeSpan timeout) => SetTimeout(fd, LibC.SO_SNDTIMEO, timeout);

    /// <summary>Whether blocking reads on <paramref name="fd"/> give up after a while (<see cref="SetReceiveTimeout"/>).</summary>
    public static bool HasReceiveTimeout(int fd)
    {
        long* value = stackalloc long[2];
        socklen_t length = sizeof(long) * 2;
        return LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, value, &length) == 0 && (value[0] | value[1]) != 0;
    }

    private static void SetTimeout(int fd, int option, TimeSpan timeout)
    {
        long* value = stackalloc long[2]; // struct timeval { tv_sec; tv_usec; }
        value[0] = (long)timeout.TotalSeconds;
        value[1] = timeout.Microseconds;
        _ = LibC.setsockopt(fd, LibC.SOL_SOCKET, option, value, sizeof(long) * 2);
    }

    private static int SetOption(int fd, int level, int option, int value) =>
        LibC.setsockopt(fd, level, option, &value, sizeof(int));

    /// <summary>Removes a socket file left by a server that is gone; one still accepting is left alone (bind then fails).</summary>
    private static void RemoveStaleSocket(string path)
    {
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            stat status;
            if (LibC.lstat(name, &status) != 0 || !LibC.S_ISSOCK(status.st_mode))
            {
                return; // nothing there, or not a socket: bind reports it
            }
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
        }
    }
}
