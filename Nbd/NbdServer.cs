using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>
/// Serves a <see cref="NbdExportCatalog"/> to NBD clients on Unix and TCP sockets: a thread per
/// listener accepts, and a thread per client runs the handshake and then the transmission phase.
/// Any number of connections may use one export at once; a flush on any covers writes completed on all,
/// since they share the export's store.
/// </summary>
internal sealed class NbdServer : IDisposable
{
    /// <summary>Clients served at once; one more is accepted and closed at once, so a flood costs no memory.</summary>
    public const int MaxClients = 64;

    /// <summary>How long a client may take over one read of its handshake before it is dropped.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the clients ended when the server stops may take to finish the requests they have in flight.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly NbdExportCatalog _catalog;
    private readonly Action<string> _log;
    private readonly ListeningSockets _listening;
    private readonly Lock _lock = new();
    private readonly HashSet<NbdClientSession> _clients = [];
    private bool _disposed;

    private NbdServer(NbdExportCatalog catalog, Action<string> log, ListeningSockets listening)
    {
        _listening = listening;
        _catalog = catalog;
        _log = log;
    }

    /// <summary>Listens on every address (all or none) and starts accepting.</summary>
    public static NbdServer Start(IReadOnlyList<NbdListenAddress> addresses, NbdExportCatalog catalog, Action<string> log)
    {
        var server = new NbdServer(catalog, log, ListeningSockets.Listen(addresses));
        server._listening.Accept("accept", server.AcceptLoop);
        return server;
    }

    public IEnumerable<NbdListenAddress> Addresses => _listening.Addresses;

    /// <summary>False once a client could not be ended in time: a request of it still runs, so its store must stay open.</summary>
    public bool AllClientsEnded { get; private set; } = true;

    /// <summary>Ends every client of <paramref name="export"/> and waits for them until <paramref name="deadline"/>, before its store goes away.</summary>
    /// <returns>False when one is still running a request by then.</returns>
    public bool DisconnectClients(NbdExport export, DateTime deadline) => AbortAndWait(client => client.Export == export, deadline);

    /// <summary>Stops listening, ends every client and waits for all of them (see <see cref="AllClientsEnded"/>).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _listening.Dispose();

        AbortAndWait(_ => true, DateTime.UtcNow + DrainTimeout);
    }

    /// <summary>
    /// Aborts the matching sessions under the lock (a session leaves the set before its socket closes, so
    /// no socket number is shut down after it was reused), then waits for their threads outside it.
    /// </summary>
    private bool AbortAndWait(Func<NbdClientSession, bool> match, DateTime deadline)
    {
        NbdClientSession[] sessions;
        lock (_lock)
        {
            sessions = _clients.Where(match).ToArray();
            Array.ForEach(sessions, session => session.Abort());
        }

        bool ended = true;
        foreach (NbdClientSession session in sessions)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (!session.Thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                _log($"an nbd client of {session.Name} still has requests running; its store stays open");
                ended = false;
            }
        }

        AllClientsEnded &= ended;
        return ended;
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
                    _log($"accept: {Errno.Describe(errno)}");
                }

                return;
            }

            var thread = new Thread(Serve) { IsBackground = true, Name = "nbd client" };
            var session = new NbdClientSession(socket, thread);
            lock (_lock)
            {
                if (_disposed || _clients.Count >= MaxClients)
                {
                    socket.Dispose();
                    continue;
                }

                _clients.Add(session);
            }

            thread.Start(session);
        }
    }

    /// <summary>A client's thread: the handshake, then the transmission phase on the same thread.</summary>
    private void Serve(object? state)
    {
        var session = (NbdClientSession)state!;
        NbdConnection? connection = null;
        try
        {
            SocketListener.SetNoDelay(session.Socket.Value);
            SocketListener.SetReceiveTimeout(session.Socket.Value, HandshakeTimeout);
            NbdHandshakeResult handshake = NbdHandshake.Negotiate(session.Socket.Value, _catalog);
            if (handshake.Export is null)
            {
                if (handshake.Failure is not null)
                {
                    _log($"nbd client: handshake: {handshake.Failure}");
                }

                return;
            }

            SocketListener.SetReceiveTimeout(session.Socket.Value, TimeSpan.Zero); // an idle client may wait as long as it likes
            lock (_lock)
            {
                session.Export = handshake.Export;
                session.Name = handshake.Name;
            }

            connection = new NbdConnection($"{handshake.Name} client", session.Socket, handshake.Export);
            if (connection.Run() is { } failure)
            {
                _log($"nbd client of {handshake.Name}: {failure}");
            }
        }
        finally
        {
            lock (_lock)
            {
                _clients.Remove(session);
            }

            if (connection is not null)
            {
                connection.Dispose(); // closes the socket too
            }
            else
            {
                session.Socket.Dispose();
            }
        }
    }
}
