using System.Net.Sockets;
using System.Text;

namespace Dmp.Daemon;

/// <summary>
/// The daemon's control socket: a client sends one request line and gets one reply line
/// (<c>ok</c> or <c>error MESSAGE</c>). Requests are handled one at a time, in arrival order.
/// The socket is root-only (mode 0600), so every client may change state.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly string _path;
    private readonly Func<string, string> _handle;
    private readonly Thread _thread;

    private ControlServer(Socket listener, string path, Func<string, string> handle)
    {
        _listener = listener;
        _path = path;
        _handle = handle;
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "control" };
    }

    /// <param name="handle">Turns a request line into a reply line; called on the control thread.</param>
    public static ControlServer Start(string path, Func<string, string> handle)
    {
        File.Delete(path); // a stale socket of a dead daemon; the pid lock says none is alive
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(8);
        }
        catch
        {
            listener.Dispose();
            File.Delete(path);
            throw;
        }

        var server = new ControlServer(listener, path, handle);
        server._thread.Start();
        return server;
    }

    /// <summary>Stops accepting; from another thread, also waits for the request in hand to be answered.</summary>
    public void Dispose()
    {
        _listener.Dispose(); // ends the blocked Accept
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        File.Delete(_path);
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }

            using (client)
            {
                Serve(client);
            }
        }
    }

    private void Serve(Socket client)
    {
        try
        {
            client.ReceiveTimeout = (int)ClientTimeout.TotalMilliseconds;
            string? request = ControlClient.ReadLine(client);
            string reply = request is null ? "error empty request" : _handle(request);
            client.Send(Encoding.UTF8.GetBytes(reply + "\n"));
        }
        catch (SocketException exception)
        {
            DaemonLog.Write($"control client: {exception.Message}");
        }
    }
}
