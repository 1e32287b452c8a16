using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// Open descriptors sent from one process to another over a Unix stream socket (SCM_RIGHTS): the receiver gets
/// descriptors of its own for the same open files, sockets included, which stay open when the sender closes its own.
/// </summary>
internal static unsafe class DescriptorPassing
{
    /// <summary>The most one message may carry (SCM_MAX_FD).</summary>
    public const int MaxDescriptors = 253;

    /// <summary>Sends all of <paramref name="data"/> (at least a byte), <paramref name="descriptors"/> riding with its first part.</summary>
    /// <returns>0 or errno.</returns>
    public static int Send(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors)
    {
        if (data.IsEmpty || descriptors.Length > MaxDescriptors)
        {
            return LibC.EINVAL;
        }

        int controlLength = (int)(ulong)LibC.CMSG_SPACE(descriptors.Length * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        long sent;
        fixed (byte* start = data)
        {
            var vector = new iovec { iov_base = start, iov_len = data.Length };
            var message = new msghdr { msg_iov = &vector, msg_iovlen = 1 };
            if (!descriptors.IsEmpty)
            {
                message.msg_control = control;
                message.msg_controllen = controlLength;
                cmsghdr* header = LibC.CMSG_FIRSTHDR(&message);
                header->cmsg_level = LibC.SOL_SOCKET;
                header->cmsg_type = LibC.SCM_RIGHTS;
                header->cmsg_len = LibC.CMSG_LEN(descriptors.Length * sizeof(int));
                descriptors.CopyTo(new Span<int>(LibC.CMSG_DATA(header), descriptors.Length));
            }

            do
            {
                sent = LibC.sendmsg(socket, &message, LibC.MSG_NOSIGNAL);
            }
            while (sent < 0 && Errno.Last == LibC.EINTR);
        }

        return sent < 0 ? Errno.Last : StreamSocket.SendAll(socket, data[(int)sent..], default);
    }

    /// <summary>Receives what the peer has sent, up to <paramref name="buffer"/>'s length, and the descriptors that came with it (close-on-exec).</summary>
    /// <returns>The number of bytes received (0 at end of stream), or -errno.</returns>
    public static int Receive(int socket, Span<byte> buffer, List<FileDescriptor> descriptors)
    {
        int controlLength = (int)(ulong)LibC.CMSG_SPACE(MaxDescriptors * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        long received;
        fixed (byte* start = buffer)
        {
            var vector = new iovec { iov_base = start, iov_len = buffer.Length };
            var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = controlLength };
            do
            {
                received = LibC.recvmsg(socket, &message, LibC.MSG_CMSG_CLOEXEC);
            }
            while (received < 0 && Errno.Last == LibC.EINTR);

            if (received < 0)
            {
                return -Errno.Last;
            }

            for (cmsghdr* header = LibC.CMSG_FIRSTHDR(&message); header != null; header = LibC.CMSG_NXTHDR(&message, header))
            {
                if (header->cmsg_level == LibC.SOL_SOCKET && header->cmsg_type == LibC.SCM_RIGHTS)
                {
                    int count = (int)(((long)(ulong)header->cmsg_len - (long)(ulong)LibC.CMSG_LEN(0)) / sizeof(int));
                    foreach (int fd in new ReadOnlySpan<int>(LibC.CMSG_DATA(header), count))
                    {
                        descriptors.Add(new FileDescriptor(fd));
                    }
                }
            }
        }

        return (int)received;
    }
}
