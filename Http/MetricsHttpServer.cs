using System.Diagnostics;
using System.Text;
using Dmp.Native;
using Dmp.Nbd;
using Tmds.Linux;

namespace Dmp.Http;

/// <summary>
/// Serves the metrics over HTTP (<c>--metrics-listen</c>) on threads of its own, never on the request path's:
/// a thread per listener accepts, a thread per connection reads one request head and answers it, then closes.
/// Bounded so that no client can make it hold more: <see cref="MaxConnections"/> at once (one more is closed
/// at once), a head of at most <see cref="HttpRequestParser.MaxHeadLength"/>, sent within <see cref="HeadTimeout"/>.
/// </summary>
internal sealed class MetricsHttpServer : IDisposable
{
    /// <summary>Connections served at once: a scraper needs one; a few more leave room for people with curl.</summary>
    public const int MaxConnections = 16;

    /// <summary>The port of <c>tcp:HOST</c> without one: beside NBD's 10809, since the Prometheus wiki's range for exporters (9100-9999) is taken.</summary>
    public const int DefaultPort = 10810;

    /// <summary>How long a client may take to send its whole request head before it is dropped.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long sending the response may stall on a client that does not read it.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long to read and discard what a client still sends after its response, so that closing does not reset the connection before it has read the response.</summary>
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(1);

    private readonly Func<string> _metrics;
    private readonly Action<string> _log;
    private readonly List<(NbdListenAddress Address, FileDescriptor Socket, Thread Thread)> _listeners = [];
    private readonly Lock _lock = new();
    private readonly Dictionary<FileDescriptor, Thread> _connections = [];
    private bool _disposed;

    private MetricsHttpServer(Func<string> metrics, Action<string> log)
    {
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Listens on every address (all or none) and starts accepting.</summary>
    /// <param name="metrics">Renders the metrics; called on the connection's thread.</param>
    public static MetricsHttpServer Start(IReadOnlyList<NbdListenAddress> addresses, Func<string> metrics, Action<string> log)
    {
        var server = new MetricsHttpServer(metrics, log);
        try
        {
            foreach (NbdListenAddress address in addresses)
            {
                FileDescriptor socket = SocketListener.Listen(address.EndPoint);
                var thread = new Thread(() => server.AcceptLoop(socket)) { IsBackground = true, Name = $"metrics {address}" };
                server._listeners.Add((address, socket, thread));
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }

        server._listeners.ForEach(listener => listener.Thread.Start());
        return server;
    }

    public IEnumerable<NbdListenAddress> Addresses => _listeners.Select(listener => listener.Address);

    /// <summary>Stops listening, ends the connections being served and waits for their threads.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        foreach ((NbdListenAddress address, FileDescriptor socket, Thread thread) in _listeners)
        {
            StreamSocket.Shutdown(socket.Value); // accept then fails with EINVAL
            if (thread.IsAlive)
            {
                thread.Join();
            }

            socket.Dispose();
            if (address.EndPoint is System.Net.Sockets.UnixDomainSocketEndPoint unix)
            {
                File.Delete(unix.ToString());
            }
        }

        // A connection leaves the set before its socket closes, so no reused descriptor number is shut down here.
        Thread[] threads;
        lock (_lock)
        {
            threads = [.. _connections.Values];
            foreach (FileDescriptor connection in _connections.Keys)
            {
                StreamSocket.Shutdown(connection.Value);
            }
        }

        Array.ForEach(threads, thread => thread.Join());
    }

    private void AcceptLoop(FileDescriptor listener)
    {
        while (true)
        {
            FileDescriptor? connection = SocketListener.Accept(listener.Value, out int errno);
            if (connection is null)
            {
                if (errno != LibC.EINVAL)
                {
                    _log($"metrics: accept: {Errno.Describe(errno)}");
                }

                return;
            }

            var thread = new Thread(Serve) { IsBackground = true, Name = "metrics client" };
            lock (_lock)
            {
                if (_disposed || _connections.Count >= MaxConnections)
                {
                    connection.Dispose(); // a flood costs neither a thread nor memory
                    continue;
                }

                _connections.Add(connection, thread);
            }

            thread.Start(connection);
        }
    }

    /// <summary>A connection's thread: one request, one response, then the connection closes.</summary>
    private void Serve(object? state)
    {
        var connection = (FileDescriptor)state!;
        try
        {
            if (ReadHead(connection.Value) is { } response)
            {
                Send(connection.Value, response);
            }
        }
        catch (Exception exception)
        {
            // Rendering or sending failed: this connection ends, the daemon goes on.
            _log($"metrics: {exception.Message}");
        }
        finally
        {
            lock (_lock)
            {
                _connections.Remove(connection);
            }

            connection.Dispose();
        }
    }

    /// <summary>Reads a request head and decides the response, or null to drop a client that was too slow or left.</summary>
    private HttpResponse? ReadHead(int fd)
    {
        var received = new byte[HttpRequestParser.MaxHeadLength];
        int length = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            TimeSpan left = HeadTimeout - clock.Elapsed;
            if (left <= TimeSpan.Zero || !Poll.WaitReadable(fd, left))
            {
                return null;
            }

            int count = StreamSocket.Receive(fd, received.AsSpan(length), wait: false);
            if (count == -LibC.EAGAIN || count == -LibC.EINTR)
            {
                continue;
            }

            if (count <= 0)
            {
                return null;
            }

            length += count;
            int end = HttpRequestParser.EndOfHead(received.AsSpan(0, length));
            if (end >= 0)
            {
                HttpParseResult parsed = HttpRequestParser.Parse(received.AsSpan(0, end));
                return parsed.Head is { } head ? MetricsRoutes.Respond(head, _metrics) : HttpResponse.Error(parsed.Status);
            }

            int refusal = HttpRequestParser.CheckUnfinished(received.AsSpan(0, length));
            if (refusal != HttpStatus.Ok)
            {
                return HttpResponse.Error(refusal);
            }
        }
    }

    private static void Send(int fd, HttpResponse response)
    {
        byte[] body = Encoding.UTF8.GetBytes(response.Body);
        SocketListener.SetSendTimeout(fd, SendTimeout);
        if (StreamSocket.SendAll(fd, response.Head(body.Length), response.WithBody ? body : []) == 0)
        {
            StreamSocket.ShutdownSending(fd);
            Linger(fd);
        }
    }

    /// <summary>Reads and discards what the client still sends (a refused head's rest), until it closes, for at most <see cref="LingerTimeout"/>.</summary>
    private static void Linger(int fd)
    {
        Span<byte> discard = stackalloc byte[4096];
        var clock = Stopwatch.StartNew();
        for (TimeSpan left = LingerTimeout; left > TimeSpan.Zero && Poll.WaitReadable(fd, left); left = LingerTimeout - clock.Elapsed)
        {
            int count = StreamSocket.Receive(fd, discard, wait: false);
            if (count == 0 || (count < 0 && count != -LibC.EAGAIN && count != -LibC.EINTR))
            {
                return;
            }
        }
    }
}
