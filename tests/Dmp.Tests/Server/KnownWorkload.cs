using Dmp.Nbd;

namespace Dmp.Tests.Server;

/// <summary>
/// A workload whose counts the tests know: 5 reads of 4 KiB, 3 writes of 512 bytes (the last beyond a 64 MiB
/// export's end, so it fails), and a flush.
/// </summary>
internal static class KnownWorkload
{
    public static void Run(string socket, string export = "export0")
    {
        using RawNbdClient client = RawNbdClient.Transmitting(socket, export);
        for (int i = 0; i < 5; i++)
        {
            client.SendRequest(NbdCommand.Read, (ulong)i * 4096, 4096);
            Assert.Equal(0u, client.ReceiveReply());
            client.Receive(4096);
        }

        for (int i = 0; i < 3; i++)
        {
            ulong offset = i == 2 ? 64UL << 20 : (ulong)i * 512;
            client.SendRequest(NbdCommand.Write, offset, 512, payload: new byte[512]);
            client.ReceiveReply();
        }

        client.SendRequest(NbdCommand.Flush, 0, 0);
        Assert.Equal(0u, client.ReceiveReply());
    }
}
