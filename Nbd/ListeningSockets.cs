using System.Net.Sockets;
using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// A server's listening sockets, with a thread each that accepts on it: opened all or none, and closed by
/// shutting each down (its accept then fails), waiting for its thread and removing a Unix socket's file.
/// </summary>
internal sealed class ListeningSockets : IDisposable
{
    private readonly List<(NbdListenAddress Address, FileDescriptor Socket)> _sockets = [];
    private readonly List<Thread> _threads = [];

    private ListeningSockets()
    {
    }

    public IEnumerable<NbdListenAddress> Addresses => _sockets.Select(listener => listener.Address);

    /// <summary>Listens on every address, or on none if one cannot be listened on.</summary>
    public static ListeningSockets Listen(IReadOnlyList<NbdListenAddress> addresses)
    {
        var sockets = new ListeningSockets();
        try
        {
            foreach (NbdListenAddress address in addresses)
            {
                sockets._sockets.Add((address, SocketListener.Listen(address.EndPoint)));
            }
        }
        catch
        {
            sockets.Dispose();
            throw;
        }

        return sockets;
    }

    /// <summary>Starts a thread per socket, named <paramref name="role"/> and its address, that runs <paramref name="acceptLoop"/> on it.</summary>
    public void Accept(string role, Action<FileDescriptor> acceptLoop)
    {
        foreach ((NbdListenAddress address, FileDescriptor socket) in _sockets)
        {
            var thread = new Thread(() => acceptLoop(socket)) { IsBackground = true, Name = $"{role} {address}" };
            _threads.Add(thread);
            thread.Start();
        }
    }

    public void Dispose()
    {
        foreach ((_, FileDescriptor socket) in _sockets)
        {
            StreamSocket.Shutdown(socket.Value); // accept then fails with EINVAL
        }

        _threads.ForEach(thread => thread.Join());
        foreach ((NbdListenAddress address, FileDescriptor socket) in _sockets)
        {
            socket.Dispose();
            if (address.EndPoint is UnixDomainSocketEndPoint unix)
            {
                File.Delete(unix.ToString());
            }
        }
    }
}
