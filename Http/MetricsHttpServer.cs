using System.Diagnostics;
using System.Text;
using Dmp.Native;
using Dmp.Nbd;
using Tmds.Linux;

namespace Dmp.Http;

/// <summary>
/// Serves the metrics over HTTP (<c>--metrics-listen</c>) on threads of its own, never on the request path's:
/// a thread per listener accepts, a thread per connection reads one request head and answers it, then closes.
/// Bounded so that no client can make it hold more: <see cref="MaxConnections"/> at once, a head of at most
/// <see cref="HttpRequestParser.MaxHeadLength"/>, sent within <see cref="HeadTimeout"/>. When all are taken, a new
/// connection evicts the oldest one still waiting for its head (so a flood of idle connections cannot keep a
/// scraper out for long), or is closed at once if every one is being answered.
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

    /// <summary>How long a new connection waits for the one it evicted to end before it gives up its turn.</summary>
    private static readonly TimeSpan EvictionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long to read and discard what a client still sends after its response, so that closing does not reset the connection before it has read the response.</summary>
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(1);

    private readonly Func<string> _metrics;
    private readonly Action<string> _log;
    private readonly ListeningSockets _listening;
    private readonly Lock _lock = new();
    private readonly List<MetricsHttpConnection> _connections = [];
    private bool _disposed;

    private MetricsHttpServer(Func<string> metrics, Action<string> log, ListeningSockets listening)
    {
        _listening = listening;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Listens on every address (all or none) and starts accepting.</summary>
    /// <param name="metrics">Renders the metrics; called on the connection's thread.</param>
    public static MetricsHttpServer Start(IReadOnlyList<NbdListenAddress> addresses, Func<string> metrics, Action<string> log)
    {
        var server = new MetricsHttpServer(metrics, log, ListeningSockets.Listen(addresses));
        server._listening.Accept("metrics", server.AcceptLoop);
        return server;
    }

    public IEnumerable<NbdListenAddress> Addresses => _listening.Addresses;

    /// <summary>Stops listening, ends the connections being served and waits for their threads.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _listening.Dispose();

        // A connection leaves the list before its socket closes, so no reused descriptor number is shut down here.
        MetricsHttpConnection[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
            foreach (MetricsHttpConnection connection in connections)
            {
                StreamSocket.Shutdown(connection.Socket.Value);
            }
        }

        // Every one was started: the accept threads, which start them, have ended.
        Array.ForEach(connections, connection => connection.Thread!.Join());
    }

    private void AcceptLoop(FileDescriptor listener)
    {
        while (true)
        {
            FileDescriptor? socket = SocketListener.Accept(listener.Value, out int errno);
            if (socket is null)
            {
                if (errno != LibC.EINVAL)
                {
                    _log($"metrics: accept: {Errno.Describe(errno)}");
                }

                return;
            }

            if (Admit(new MetricsHttpConnection(socket)) is { } connection)
            {
                connection.Thread!.Start(connection);
            }
            else
            {
                socket.Dispose(); // a flood costs neither a thread nor memory
            }
        }
    }

    /// <summary>Adds a connection to the list, evicting the oldest one still waiting for its head if the list is full.</summary>
    /// <returns>The connection with its thread (not started), or null to close it.</returns>
    private MetricsHttpConnection? Admit(MetricsHttpConnection connection)
    {
        MetricsHttpConnection? evicted;
        lock (_lock)
        {
            if (_disposed)
            {
                return null;
            }

            if (_connections.Count < MaxConnections)
            {
                return Add(connection);
            }

            evicted = _connections.FirstOrDefault(old => !old.Answering && !old.Evicted); // the list is in order of arrival
            if (evicted is null)
            {
                return null;
            }

            evicted.Evicted = true;
            StreamSocket.Shutdown(evicted.Socket.Value); // its poll wakes and its read sees the end
        }

        evicted.Thread!.Join(EvictionTimeout);
        lock (_lock)
        {
            return !_disposed && _connections.Count < MaxConnections ? Add(connection) : null;
        }
    }

    private MetricsHttpConnection Add(MetricsHttpConnection connection)
    {
        connection.Thread = new Thread(Serve) { IsBackground = true, Name = "metrics client" };
        _connections.Add(connection);
        return connection;
    }

    /// <summary>A connection's thread: one request, one response, then the connection closes.</summary>
    private void Serve(object? state)
    {
        var connection = (MetricsHttpConnection)state!;
        int fd = connection.Socket.Value;
        try
        {
            if (ReadHead(fd) is { } request && StartAnswering(connection))
            {
                Send(fd, request.Head is { } head ? MetricsRoutes.Respond(head, _metrics) : HttpResponse.Error(request.Status));
            }
        }
        catch (Exception exception)
        {
            // Rendering or sending failed: this connection ends, the daemon goes on (an exception on this thread would end it).
            _log($"metrics: {exception.Message}");
        }
        finally
        {
            lock (_lock)
            {
                _connections.Remove(connection);
            }

            connection.Socket.Dispose();
        }
    }

    /// <summary>Marks the connection as being answered, so that it is no longer evicted; false if it already was.</summary>
    private bool StartAnswering(MetricsHttpConnection connection)
    {
        lock (_lock)
        {
            connection.Answering = !connection.Evicted;
            return connection.Answering;
        }
    }

    /// <summary>Reads a request head: parsed, or refused, or null to drop a client that was too slow, left, or was evicted.</summary>
    private static HttpParseResult? ReadHead(int fd)
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
                return HttpRequestParser.Parse(received.AsSpan(0, end));
            }

            int refusal = HttpRequestParser.CheckUnfinished(received.AsSpan(0, length));
            if (refusal != HttpStatus.Ok)
            {
                return HttpParseResult.Refused(refusal);
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
