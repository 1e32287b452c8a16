using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>
/// Serves a <see cref="NbdExportCatalog"/> to NBD clients on Unix and TCP sockets: a thread per
/// listener accepts, and a thread per client runs the handshake and then the transmission phase.
/// Any number of connections may use one export at once; a flush on any covers writes completed on all,
/// since they share the export's store. Clients in the handshake and clients served are bounded apart,
/// so that clients which never finish their handshake cannot keep out those that would.
/// </summary>
internal sealed class NbdServer : IDisposable
{
    /// <summary>Clients served at once; one more that chooses an export is refused (a GO gets the reason).</summary>
    public const int MaxClients = 64;

    /// <summary>Clients in the handshake at once; one more drops the one that has been in it longest. A real client's
    /// handshake takes milliseconds, so it is never the oldest unless this many others came after it meanwhile.</summary>
    public const int MaxHandshakes = 64;

    /// <summary>How long a client may take over its whole handshake, however it trickles its bytes in.</summary>
    public static readonly TimeSpan HandshakeDeadline = TimeSpan.FromSeconds(10);

    /// <summary>How long the clients ended when the server stops may take to finish the requests they have in flight.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly NbdExportCatalog _catalog;
    private readonly Action<string> _log;
    private readonly ListeningSockets _listening;
    private readonly NbdTls? _tls;
    private readonly Lock _lock = new();
    private readonly HashSet<NbdClientSession> _clients = [];
    private readonly LinkedList<NbdClientSession> _handshaking = [];
    private int _admitted;
    private bool _disposed;

    private NbdServer(NbdExportCatalog catalog, Action<string> log, ListeningSockets listening, NbdTls? tls)
    {
        _listening = listening;
        _tls = tls;
        _catalog = catalog;
        _log = log;
    }

    /// <summary>Listens on every address (all or none) and starts accepting.</summary>
    /// <param name="tls">TLS as the command line asks for it; its certificates are loaded here, so a bad one fails the start.</param>
    public static NbdServer Start(IReadOnlyList<NbdListenAddress> addresses, NbdExportCatalog catalog, Action<string> log, NbdTlsSettings tls)
    {
        NbdTls? credentials = NbdTls.Load(tls);
        var server = new NbdServer(catalog, log, ListeningSockets.Listen(addresses), credentials);
        foreach (string warning in addresses.Select(tls.ExposureWarning).OfType<string>())
        {
            log(warning);
        }

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
    public void Dispose() => Stop(DateTime.UtcNow + DrainTimeout);

    /// <summary>Stops listening, ends every client and waits for them until <paramref name="deadline"/>.</summary>
    /// <returns>False when one is still running a request by then.</returns>
    public bool Stop(DateTime deadline)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return AllClientsEnded;
            }

            _disposed = true;
        }

        _listening.Dispose();
        return AbortAndWait(_ => true, deadline);
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
                if (_disposed)
                {
                    socket.Dispose();
                    continue;
                }

                if (_handshaking.Count >= MaxHandshakes)
                {
                    Drop(_handshaking.First!.Value, $"dropped for a newer client: {MaxHandshakes} were in the handshake");
                }

                _clients.Add(session);
                _handshaking.AddLast(session.InHandshake);
                session.Deadline = new Timer(ExpireHandshake, session, HandshakeDeadline, Timeout.InfiniteTimeSpan);
            }

            thread.Start(session);
        }
    }

    private void ExpireHandshake(object? state)
    {
        var session = (NbdClientSession)state!;
        lock (_lock)
        {
            if (session.InHandshake.List is not null)
            {
                Drop(session, $"not finished within {HandshakeDeadline.TotalSeconds} s");
            }
        }
    }

    /// <summary>Ends a client in the handshake (under the lock, so its socket is still its own): its thread then sees end of stream.</summary>
    private void Drop(NbdClientSession session, string reason)
    {
        LeaveHandshake(session);
        session.Dropped = reason;
        session.Abort();
    }

    /// <summary>Takes a client off the list of those in the handshake (under the lock), if it is still on it.</summary>
    private void LeaveHandshake(NbdClientSession session)
    {
        if (session.InHandshake.List is not null)
        {
            _handshaking.Remove(session.InHandshake);
        }
    }

    /// <summary>Lets a client that has chosen an export in, if fewer than <see cref="MaxClients"/> are served.</summary>
    /// <returns>Null once it is counted, otherwise why not.</returns>
    private string? Admit(NbdClientSession session)
    {
        lock (_lock)
        {
            if (_admitted >= MaxClients)
            {
                return $"too many clients: this server serves {MaxClients} at once; try again later";
            }

            _admitted++;
            session.Admitted = true;
            return null;
        }
    }

    /// <summary>A client's thread: the handshake, then the transmission phase on the same thread.</summary>
    private void Serve(object? state)
    {
        var session = (NbdClientSession)state!;
        NbdConnection? connection = null;
        NbdTlsTunnel? tunnel = null;
        try
        {
            SocketListener.SetNoDelay(session.Socket.Value);
            NbdHandshakeResult handshake = NbdHandshake.Negotiate(session.Socket.Value, _catalog, () => Admit(session), _tls);
            tunnel = handshake.Tunnel;
            string? dropped;
            lock (_lock)
            {
                LeaveHandshake(session); // an idle client may then wait as long as it likes
                dropped = session.Dropped;
                if (dropped is null)
                {
                    session.Export = handshake.Export;
                    session.Name = handshake.Name;
                }
            }

            if (dropped is not null || handshake.Export is null)
            {
                if ((dropped ?? handshake.Failure) is { } reason)
                {
                    _log($"nbd client: handshake: {reason}");
                }

                return;
            }

            connection = new NbdConnection($"{handshake.Name} client", tunnel?.Plain ?? session.Socket, handshake.Export);
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
                LeaveHandshake(session);
                _admitted -= session.Admitted ? 1 : 0;
            }

            session.Deadline!.Dispose(); // its callback finds the session out of the handshake, if it runs at all
            connection?.Dispose(); // closes its socket: the client's, or the tunnel's plain end
            tunnel?.Dispose(); // its threads end before the client's socket closes
            session.Socket.Dispose();
        }
    }
}
