using System.Net.Sockets;
using System.Text;
using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>
/// The daemon's control socket (<see cref="ControlProtocol"/>). Requests are handled one at a time, in
/// arrival order, on one thread. The socket is root-only (mode 0600), so every client may change state.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private const int MaxRequestLength = 64 * 1024;
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly string _path;
    private readonly Func<string[], ControlReply> _handle;
    private readonly Thread _thread;
    private int _disposed;

    private ControlServer(Socket listener, string path, Func<string[], ControlReply> handle)
    {
        _listener = listener;
        _path = path;
        _handle = handle;
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "control" };
    }

    /// <param name="handle">Answers a request (its decoded fields); called on the control thread.</param>
    public static ControlServer Start(string path, Func<string[], ControlReply> handle)
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
        // Only the first call closes and removes the socket: a later one may come after a new daemon made its own.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _listener.Dispose(); // ends the blocked Accept
            File.Delete(_path);
        }

        if (Thread.CurrentThread != _thread && _thread.IsAlive)
        {
            _thread.Join();
        }
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
            string? request = ReadLine(client);
            ControlReply reply = request is null ? ControlReply.Failure("empty or oversized request") : _handle(ControlProtocol.DecodeRequest(request));
            byte[] text = Encoding.UTF8.GetBytes(ControlProtocol.EncodeReply(reply));
            if (reply.Descriptors is not { Count: > 0 } descriptors)
            {
                client.Send(text);
                return;
            }

            using var sent = new DescriptorList(descriptors);
            int error = DescriptorPassing.Send((int)client.SafeHandle.DangerousGetHandle(), text, [.. descriptors.Select(fd => fd.Value)]);
            if (error != 0)
            {
                DaemonLog.Warning($"control client: sending {descriptors.Count} descriptors: {Errno.Describe(error)}");
            }
        }
        catch (Exception exception)
        {
            // A client that vanished, or anything else: the daemon logs it and keeps serving.
            DaemonLog.Warning($"control client: {exception.Message}");
        }
    }

    /// <summary>Closes the descriptors a reply carried, once they are sent (the receiver has its own).</summary>
    private sealed class DescriptorList(IReadOnlyList<FileDescriptor> descriptors) : IDisposable
    {
        public void Dispose()
        {
            foreach (FileDescriptor descriptor in descriptors)
            {
                descriptor.Dispose();
            }
        }
    }

    /// <summary>Reads up to a newline; null when the client closes first or sends too much.</summary>
    internal static string? ReadLine(Socket socket)
    {
        var line = new List<byte>();
        byte[] buffer = new byte[4096];
        while (line.Count < MaxRequestLength)
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

        return null;
    }
}
