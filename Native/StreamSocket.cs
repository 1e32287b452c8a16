using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// Blocking socket IO for the request path (Unix and TCP streams) and for the netlink socket's messages:
/// EINTR and partial transfers are handled here, and results are errno values rather than exceptions.
/// </summary>
internal static unsafe class StreamSocket
{
    /// <summary>Returned by <see cref="ReceiveExactly"/> when the peer closed before the first byte.</summary>
    public const int EndOfStream = -1;

    /// <summary>A connected AF_UNIX stream pair; both ends close on exec.</summary>
    public static (FileDescriptor Ours, FileDescriptor Theirs) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw NativeException.FromLast("socketpair");
        }

        return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
    }

    /// <summary>Fills <paramref name="buffer"/> completely.</summary>
    /// <returns>0; <see cref="EndOfStream"/> if the peer closed cleanly before any byte; otherwise errno
    /// (EPIPE when the stream ended part-way).</returns>
    public static int ReceiveExactly(int fd, Span<byte> buffer)
    {
        for (int done = 0; done < buffer.Length;)
        {
            int received = Receive(fd, buffer[done..], wait: true);
            if (received <= 0)
            {
                return received < 0 ? -received : done == 0 ? EndOfStream : LibC.EPIPE;
            }

            done += received;
        }

        return 0;
    }

    /// <summary>Receives whatever the peer has sent, up to <paramref name="buffer"/>'s length.</summary>
    /// <param name="wait">Block until something arrives; otherwise return -EAGAIN at once when nothing has.</param>
    /// <returns>The number of bytes received; 0 at end of stream; otherwise -errno.</returns>
    public static int Receive(int fd, Span<byte> buffer, bool wait)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                long received = LibC.recv(fd, start, buffer.Length, wait ? 0 : LibC.MSG_DONTWAIT);
                if (received >= 0)
                {
                    return (int)received;
                }

                if (Errno.Last != LibC.EINTR)
                {
                    return -Errno.Last;
                }
            }
        }
    }

    /// <summary>Sends <paramref name="header"/> then <paramref name="payload"/> as one gathered write.</summary>
    /// <returns>0 or errno.</returns>
    public static int SendAll(int fd, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        fixed (byte* headerStart = header)
        fixed (byte* payloadStart = payload)
        {
            iovec* vectors = stackalloc iovec[2];
            vectors[0] = new iovec { iov_base = headerStart, iov_len = header.Length };
            vectors[1] = new iovec { iov_base = payloadStart, iov_len = payload.Length };
            var message = new msghdr { msg_iov = vectors, msg_iovlen = payload.IsEmpty ? 1 : 2 };
            long remaining = header.Length + payload.Length;
            while (remaining > 0)
            {
                long sent = LibC.sendmsg(fd, &message, LibC.MSG_NOSIGNAL);
                if (sent < 0)
                {
                    if (Errno.Last == LibC.EINTR)
                    {
                        continue;
                    }

                    return Errno.Last;
                }

                remaining -= sent;
                Advance(ref message, sent);
            }
        }

        return 0;
    }

    /// <summary>Wakes any thread blocked on the socket; its reads then see end of stream.</summary>
    public static void Shutdown(int fd) => _ = LibC.shutdown(fd, LibC.SHUT_RDWR);

    /// <summary>Ends our direction of the stream (the peer reads end of stream) while still receiving.</summary>
    public static void ShutdownSending(int fd) => _ = LibC.shutdown(fd, LibC.SHUT_WR);

    private static void Advance(ref msghdr message, long sent)
    {
        while (sent > 0 && message.msg_iovlen > 0)
        {
            iovec* first = message.msg_iov;
            long length = (long)(ulong)first->iov_len;
            if (sent < length)
            {
                first->iov_base = (byte*)first->iov_base + sent;
                first->iov_len = (size_t)(ulong)(length - sent);
                return;
            }

            sent -= length;
            message.msg_iov++;
            message.msg_iovlen = message.msg_iovlen - 1;
        }
    }
}
