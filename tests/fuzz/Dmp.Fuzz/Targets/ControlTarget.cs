using System.Net.Sockets;
using System.Text;
using Dmp.Daemon;
using Dmp.Faults;
using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// The control protocol: the input is what a client writes to the control socket, read by the server's own
/// <see cref="ControlServer.ReadLine"/> over a socketpair, decoded into fields and handed to the requests that need no
/// kernel (fault rules and statistics, on one device); the fields must survive an encode and decode unchanged.
/// The same bytes are read as a reply by <see cref="ControlProtocol.ReadReply"/>, as the client does.
/// </summary>
internal static class ControlTarget
{
    private const string DeviceName = "dmp0";

    public static void Run(ReadOnlySpan<byte> input)
    {
        string? line;
        using (var peer = SocketPeer.Start(input))
        using (var socket = new Socket(new SafeSocketHandle(peer.Served.DangerousGetHandle(), ownsHandle: false)))
        {
            line = ControlServer.ReadLine(socket);
            peer.Served.Dispose();
        }

        if (line is not null)
        {
            string[] fields = ControlProtocol.DecodeRequest(line);
            if (!ControlProtocol.DecodeRequest(ControlProtocol.EncodeRequest(fields)).SequenceEqual(fields))
            {
                throw new FuzzFindingException($"the fields of '{line}' change on their way through the protocol");
            }

            Handle(fields);
        }

        _ = ControlProtocol.ReadReply(new StringReader(Encoding.UTF8.GetString(input)));
    }

    private static void Handle(string[] fields)
    {
        var faults = new DeviceFaults(1 << 20);
        ControlReply reply = fields switch
        {
            [StatisticsRequests.Clear, string device, string format] => StatisticsRequests.Handle(
                device, format, name => name is null or DeviceName ? default(IoCounters) : null),
            _ when FaultRequests.Handles(fields) => FaultRequests.Handle(
                fields, name => name == DeviceName ? (DeviceName, faults) : null, () => [(DeviceName, faults)]),
            _ => ControlReply.Failure("not a request this target serves"),
        };
        _ = ControlProtocol.EncodeReply(reply);
    }
}
