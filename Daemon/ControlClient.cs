using System.Net.Sockets;
using System.Text;
using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>Sends one request to the daemon's control socket and returns its reply.</summary>
internal static class ControlClient
{
    /// <returns>The reply, or null when no daemon listens at <paramref name="path"/>.</returns>
    /// <exception cref="UnauthorizedAccessException">The socket is its owner's alone (root's, for a loaded dmp).</exception>
    public static ControlReply? Send(string path, IEnumerable<string> request, TimeSpan timeout)
    {
        using Socket? socket = Connect(path, request, timeout);
        if (socket is null)
        {
            return null;
        }

        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return ControlProtocol.ReadReply(reader) ?? ControlReply.Failure("the daemon ended the connection before it answered");
    }

    /// <summary>As <see cref="Send"/>, for a request whose reply carries open descriptors (a hand-over), which the reply then owns.</summary>
    public static ControlReply? SendForDescriptors(string path, IEnumerable<string> request, TimeSpan timeout)
    {
        using Socket? socket = Connect(path, request, timeout);
        if (socket is null)
        {
            return null;
        }

        var descriptors = new List<FileDescriptor>();
        var text = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        int received;
        while ((received = DescriptorPassing.Receive((int)socket.SafeHandle.DangerousGetHandle(), buffer, descriptors)) > 0)
        {
            text.Write(buffer, 0, received); // the daemon closes the connection after its reply
        }

        ControlReply? reply = received == 0 ? ControlProtocol.ReadReply(new StringReader(Encoding.UTF8.GetString(text.ToArray()))) : null;
        if (reply is null)
        {
            descriptors.ForEach(descriptor => descriptor.Dispose());
            return ControlReply.Failure(received < 0 ? $"receive: {Errno.Describe(-received)}" : "the daemon ended the connection before it answered");
        }

        return reply with { Descriptors = descriptors };
    }

    private static Socket? Connect(string path, IEnumerable<string> request, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AccessDenied)
        {
            socket.Dispose();
            throw new UnauthorizedAccessException($"{path}: Permission denied (only the daemon's owner may ask this)");
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }

        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        socket.Send(Encoding.UTF8.GetBytes(ControlProtocol.EncodeRequest(request) + "\n"));
        return socket;
    }
}
