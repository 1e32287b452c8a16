using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

[Collection(Measurement.Name)]
public sealed class NbdRequestAllocationTests : IDisposable
{
    private readonly MemoryStore _store = new(64 << 20);
    private readonly NbdConnection _connection;
    private readonly NbdTestClient _client;

    public NbdRequestAllocationTests()
    {
        (FileDescriptor server, FileDescriptor client) = UnixSocket.CreatePair();
        _connection = new NbdConnection("test", server, new NbdExport(_store, new IoStatistics()), NbdRequestPoolPolicy.CreatePool());
        _connection.Start();
        _client = new NbdTestClient(client);
    }

    public void Dispose()
    {
        _client.Dispose();
        _connection.Dispose();
        _store.Dispose();
    }

    [Fact]
    public void A_request_allocates_nothing_in_steady_state()
    {
        const int depth = 32;
        const int rounds = 1000;
        byte[] data = new byte[4096];
        void RunRounds(int count)
        {
            for (int round = 0; round < count; round++)
            {
                for (int i = 0; i < depth; i++)
                {
                    _client.Send(i % 2 == 0 ? NbdCommand.Read : NbdCommand.Write, (ulong)i, (ulong)i * 4096, 4096, i % 2 == 0 ? default : data);
                }

                for (int i = 0; i < depth; i++)
                {
                    (_, ulong cookie) = _client.ReceiveReply();
                    if (cookie % 2 == 0)
                    {
                        _client.ReceiveExactly(data);
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
