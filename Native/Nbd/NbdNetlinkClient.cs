using Dmp.Native.Netlink;
using Tmds.Linux;

namespace Dmp.Native.Nbd;

/// <summary>Attaches and detaches kernel nbd devices through the "nbd" generic-netlink family. Safe to share between
/// threads: a request and its reply are one exchange at a time on the socket.</summary>
internal sealed class NbdNetlinkClient : IDisposable
{
    private const string FamilyName = "nbd";
    private const byte FamilyVersion = 1;

    // Nested attributes: SOCKETS { SOCK_ITEM { SOCK_FD } }.
    internal const ushort SocketItem = 1;
    internal const ushort SocketFd = 1;

    private readonly GenericNetlinkSocket _socket;
    private readonly ushort _familyId;
    private readonly Lock _exchange = new();

    private NbdNetlinkClient(GenericNetlinkSocket socket, ushort familyId)
    {
        _socket = socket;
        _familyId = familyId;
    }

    /// <summary>Opens the family; null when the kernel has no nbd (module not loaded or not built).</summary>
    public static NbdNetlinkClient? TryOpen()
    {
        var socket = GenericNetlinkSocket.Open();
        try
        {
            return socket.ResolveFamily(FamilyName) is ushort familyId ? new NbdNetlinkClient(socket, familyId) : Close(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        static NbdNetlinkClient? Close(GenericNetlinkSocket socket)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>NBD_CMD_CONNECT: hands the sockets to the kernel and returns the device index it used.</summary>
    public int Connect(NbdConnectParameters parameters)
    {
        GenericNetlinkMessage request = NewRequest(NbdNetlinkCommand.Connect)
            .AddUInt64((ushort)NbdNetlinkAttribute.SizeBytes, (ulong)parameters.SizeBytes)
            .AddUInt64((ushort)NbdNetlinkAttribute.BlockSizeBytes, (ulong)parameters.BlockSizeBytes)
            .AddUInt64((ushort)NbdNetlinkAttribute.ServerFlags, parameters.ServerFlags)
            .AddString((ushort)NbdNetlinkAttribute.BackendIdentifier, parameters.BackendIdentifier);
        if (parameters.Index is int index)
        {
            request.AddUInt32((ushort)NbdNetlinkAttribute.Index, (uint)index);
        }

        if (parameters.DeadConnectionTimeout > TimeSpan.Zero)
        {
            request.AddUInt64((ushort)NbdNetlinkAttribute.DeadConnectionTimeout, Seconds(parameters.DeadConnectionTimeout));
        }

        AddSockets(request, parameters.SocketFds);
        NetlinkReply reply = Send(request);
        reply.ThrowIfFailed("nbd connect");
        return new NetlinkAttributes(reply.Attributes).TryGetUInt32((ushort)NbdNetlinkAttribute.Index, out uint connected)
            ? (int)connected
            : throw new NativeException("nbd connect: the kernel did not say which device", LibC.EPROTO);
    }

    /// <summary>
    /// NBD_CMD_RECONFIGURE: hands the kernel new sockets for device <paramref name="index"/>, each to take the place
    /// of a dead one; the backend identifier must be the one the device was connected with. The kernel drops a
    /// socket it has no dead one for without saying so: the caller finds that out by the socket's other end
    /// (<see cref="Poll.HasHungUp"/>).
    /// </summary>
    /// <returns>0, or the errno the kernel answered (EINVAL for a device that is not connected, ...).</returns>
    /// <param name="deadConnectionTimeout">As at connect: a daemon that dies later gets as long to be replaced.</param>
    public int Reconfigure(int index, string backendIdentifier, IReadOnlyList<int> socketFds, TimeSpan deadConnectionTimeout)
    {
        GenericNetlinkMessage request = NewRequest(NbdNetlinkCommand.Reconfigure)
            .AddUInt32((ushort)NbdNetlinkAttribute.Index, (uint)index)
            .AddString((ushort)NbdNetlinkAttribute.BackendIdentifier, backendIdentifier)
            .AddUInt64((ushort)NbdNetlinkAttribute.DeadConnectionTimeout, Seconds(deadConnectionTimeout));
        AddSockets(request, socketFds);
        return Send(request).ErrorNumber;
    }

    /// <summary>NBD_CMD_DISCONNECT: the kernel sends NBD_CMD_DISC and drops the device's sockets.</summary>
    /// <returns>0, or the errno the kernel answered (EINVAL when the device is not connected).</returns>
    public int Disconnect(int index)
    {
        GenericNetlinkMessage request = NewRequest(NbdNetlinkCommand.Disconnect)
            .AddUInt32((ushort)NbdNetlinkAttribute.Index, (uint)index);
        return Send(request).ErrorNumber;
    }

    public void Dispose() => _socket.Dispose();

    private NetlinkReply Send(GenericNetlinkMessage request)
    {
        lock (_exchange)
        {
            return _socket.Send(request);
        }
    }

    private GenericNetlinkMessage NewRequest(NbdNetlinkCommand command) => new(_familyId, (byte)command, FamilyVersion);

    private static ulong Seconds(TimeSpan duration) => (ulong)Math.Ceiling(duration.TotalSeconds);

    /// <summary>SOCKETS { SOCK_ITEM { SOCK_FD } ... }.</summary>
    private static void AddSockets(GenericNetlinkMessage request, IReadOnlyList<int> socketFds)
    {
        int sockets = request.BeginNested((ushort)NbdNetlinkAttribute.Sockets);
        foreach (int fd in socketFds)
        {
            int item = request.BeginNested(SocketItem);
            request.AddUInt32(SocketFd, (uint)fd);
            request.EndNested(item);
        }

        request.EndNested(sockets);
    }
}
