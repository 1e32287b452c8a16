using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// One accepted client of an <see cref="NbdServer"/>: its socket, the thread that serves it, and its export once
/// chosen. The server's lock guards everything but the socket and thread.
/// </summary>
internal sealed class NbdClientSession
{
    public NbdClientSession(FileDescriptor socket, Thread thread)
    {
        Socket = socket;
        Thread = thread;
        InHandshake = new LinkedListNode<NbdClientSession>(this);
    }

    public FileDescriptor Socket { get; }

    public Thread Thread { get; }

    /// <summary>Its place among the clients still in the handshake, oldest first; in no list once it is out.</summary>
    public LinkedListNode<NbdClientSession> InHandshake { get; }

    /// <summary>Ends the handshake when its time is up.</summary>
    public Timer? Deadline { get; set; }

    /// <summary>Counted among the clients served: it has chosen an export and was let in.</summary>
    public bool Admitted { get; set; }

    /// <summary>Why the server ended it in the handshake, if it did.</summary>
    public string? Dropped { get; set; }

    /// <summary>Set once the handshake has chosen an export.</summary>
    public NbdExport? Export { get; set; }

    /// <summary>The chosen export's name, for logs.</summary>
    public string? Name { get; set; }

    /// <summary>Ends the session wherever it is, handshake or transmission: both then see end of stream.</summary>
    public void Abort() => StreamSocket.Shutdown(Socket.Value);
}
