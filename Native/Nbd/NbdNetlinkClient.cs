using Dmp.Native.Netlink;
using Tmds.Linux;

namespace Dmp.Native.Nbd;

/// <summary>Attaches and detaches kernel nbd devices through the "nbd" generic-netlink family.</summary>
internal sealed class NbdNetlinkClient : IDisposable
{
    private const string FamilyName = "nbd";
    private const byte FamilyVersion = 1;

    // Nested attributes: SOCKETS { SOCK_ITEM { SOCK_FD } }.
    internal const ushort SocketItem = 1;
    internal const ushort SocketFd = 1;

    private readonly GenericNetlinkSocket _socket;
    private readonly ushort _familyId;

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

        int sockets = request.BeginNested((ushort)NbdNetlinkAttribute.Sockets);
        foreach (int fd in parameters.SocketFds)
        {
            int item = request.BeginNested(SocketItem);
            request.AddUInt32(SocketFd, (uint)fd);
            request.EndNested(item);
        }

        request.EndNested(sockets);

        NetlinkReply reply = _socket.Send(request);
        reply.ThrowIfFailed("nbd connect");
        return new NetlinkAttributes(reply.Attributes).TryGetUInt32((ushort)NbdNetlinkAttribute.Index, out uint connected)
            ? (int)connected
            : throw new NativeException("nbd connect: the kernel did not say which device", LibC.EPROTO);
    }

    /// <summary>NBD_CMD_DISCONNECT: the kernel sends NBD_CMD_DISC and drops the device's sockets.</summary>
    /// <returns>0, or the errno the kernel answered (EINVAL when the device is not connected).</returns>
    public int Disconnect(int index)
    {
        GenericNetlinkMessage request = NewRequest(NbdNetlinkCommand.Disconnect)
            .AddUInt32((ushort)NbdNetlinkAttribute.Index, (uint)index);
        return _socket.Send(request).ErrorNumber;
    }

    public void Dispose() => _socket.Dispose();

    private GenericNetlinkMessage NewRequest(NbdNetlinkCommand command) => new(_familyId, (byte)command, FamilyVersion);
}
