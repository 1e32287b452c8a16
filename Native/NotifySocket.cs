using System.Net.Sockets;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// The service manager's notification socket (sd_notify(3), written by hand so that no libsystemd is needed): one
/// datagram of newline-separated <c>KEY=VALUE</c> lines to the AF_UNIX socket <c>NOTIFY_SOCKET</c> names.
/// </summary>
internal static unsafe class NotifySocket
{
    /// <summary>Sends <paramref name="message"/> as one datagram.</summary>
    /// <param name="address">A socket path, or <c>@name</c> for a name in the abstract namespace.</param>
    /// <returns>0, or errno.</returns>
    public static int Send(string address, string message)
    {
        // .NET takes a leading NUL as the abstract namespace, as the kernel does; systemd writes it as '@'.
        var endPoint = new UnixDomainSocketEndPoint(address.StartsWith('@') ? $"\0{address[1..]}" : address);
        System.Net.SocketAddress socketAddress = endPoint.Serialize();
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(message);
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return Errno.Last;
        }

        using var socket = new FileDescriptor(fd);
        fixed (byte* name = socketAddress.Buffer.Span)
        fixed (byte* data = bytes)
        {
            while (true)
            {
                long sent = LibC.sendto(fd, data, bytes.Length, LibC.MSG_NOSIGNAL, (sockaddr*)name, socketAddress.Size);
                if (sent >= 0)
                {
                    return 0;
                }

                if (Errno.Last != LibC.EINTR)
                {
                    return Errno.Last;
                }
            }
        }
    }
}
