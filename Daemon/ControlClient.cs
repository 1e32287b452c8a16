using System.Net.Sockets;
using System.Text;

namespace Dmp.Daemon;

/// <summary>Sends one request to the daemon's control socket and returns its reply.</summary>
internal static class ControlClient
{
    /// <returns>The reply, or null when no daemon listens at <paramref name="path"/>.</returns>
    /// <exception cref="UnauthorizedAccessException">The socket is its owner's alone (root's, for a loaded dmp).</exception>
    public static ControlReply? Send(string path, IEnumerable<string> request, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new UnauthorizedAccessException($"{path}: Permission denied (only the daemon's owner may ask this)");
        }
        catch (SocketException)
        {
            return null;
        }

        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        socket.Send(Encoding.UTF8.GetBytes(ControlProtocol.EncodeRequest(request) + "\n"));
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return ControlProtocol.ReadReply(reader) ?? ControlReply.Failure("the daemon ended the connection before it answered");
    }
}
