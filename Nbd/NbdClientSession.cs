using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>One accepted client of an <see cref="NbdServer"/>: its socket, the thread that serves it, and its export once chosen.</summary>
internal sealed class NbdClientSession
{
    public NbdClientSession(FileDescriptor socket, Thread thread)
    {
        Socket = socket;
        Thread = thread;
    }

    public FileDescriptor Socket { get; }

    public Thread Thread { get; }

    /// <summary>Set once the handshake has chosen an export.</summary>
    public NbdExport? Export { get; set; }

    /// <summary>The chosen export's name, for logs.</summary>
    public string? Name { get; set; }

    /// <summary>Ends the session wherever it is, handshake or transmission: both then see end of stream.</summary>
    public void Abort() => StreamSocket.Shutdown(Socket.Value);
}
