using Dmp.Nbd;

namespace Dmp.Tests.Nbd;

[Collection(Measurement.Name)]
public sealed class NbdRequestAllocationTests
{
    public static TheoryData<string> Backings => [.. ServedConnection.Backings];

    /// <summary>Every request path: served inline (memory), through io_uring (files), and on the thread pool.</summary>
    [Theory]
    [MemberData(nameof(Backings))]
    public void A_request_allocates_nothing_in_steady_state(string backing)
    {
        using var served = new ServedConnection(64 << 20, backing);
        NbdTestClient client = served.Client;
        const int depth = 32;
        const int rounds = 1000;
        byte[] data = new byte[4096];
        void RunRounds(int count)
        {
            for (int round = 0; round < count; round++)
            {
                for (int i = 0; i < depth; i++)
                {
                    client.Send(i % 2 == 0 ? NbdCommand.Read : NbdCommand.Write, (ulong)i, (ulong)i * 4096, 4096, i % 2 == 0 ? default : data);
                }

                for (int i = 0; i < depth; i++)
                {
                    (_, ulong cookie) = client.ReceiveReply();
                    if (cookie % 2 == 0)
                    {
                        client.ReceiveExactly(data);
                    }
                }
            }
        }

        RunRounds(200); // warm up: pools filled, code paths compiled

        // The test host allocates in bursts of its own (reporting results); the least of a few
        // windows is the server's share. One allocation per request would be >= 768 KB in each.
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            RunRounds(rounds);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(least < 4096, $"{least} bytes allocated for {depth * rounds} requests");
    }
}
