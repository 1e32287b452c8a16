using System.Net.Sockets;
using System.Text;

namespace Dmp.Daemon;

/// <summary>Sends one request line to the daemon's control socket and returns its reply line.</summary>
internal static class ControlClient
{
    public const string Ok = "ok";
    public const string ErrorPrefix = "error ";

    /// <returns>The reply line, or null when no daemon answers at <paramref name="path"/>.</returns>
    public static string? Send(string path, string request, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            return null;
        }

        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        socket.Send(Encoding.UTF8.GetBytes(request + "\n"));
        return ReadLine(socket);
    }

    /// <summary>Reads up to a newline; null when the peer closes first.</summary>
    internal static string? ReadLine(Socket socket)
    {
        var line = new List<byte>();
        byte[] buffer = new byte[256];
        while (true)
        {
            int received = socket.Receive(buffer);
            if (received == 0)
            {
                return null;
            }

            int newline = Array.IndexOf(buffer, (byte)'\n', 0, received);
            line.AddRange(buffer.AsSpan(0, newline < 0 ? received : newline));
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString([.. line]);
            }
        }
    }
}
