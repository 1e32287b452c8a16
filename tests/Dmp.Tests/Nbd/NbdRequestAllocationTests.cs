using Dmp.Nbd;
using Dmp.Trace;

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
        AssertNoAllocationPerRequest(served.Client);
    }

    /// <summary>With every layer of the chain on: a trace reader taking each record, and fault rules checked on every request.</summary>
    [Theory]
    [MemberData(nameof(Backings))]
    public void A_request_allocates_nothing_with_a_trace_reader_and_fault_rules_on(string backing)
    {
        using var served = new ServedConnection(64 << 20, backing);
        NbdExport export = served.Connection.Export;
        Assert.NotNull(export.Faults.TryAdd("op=read offset=60M length=4K error=EIO", out _)); // matches no request here
        Assert.NotNull(export.Faults.TryAdd("op=write probability=0 error=EIO", out _)); // matches, never fires
        TraceSubscription subscription = export.Trace.Subscribe(device: null);
        bool done = false;
        long traced = 0;

        // A thread of its own, as the FUSE thread is: one taken from the pool for good would make the pool add threads.
        var reader = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                while (subscription.TryRead(out _))
                {
                    traced++;
                }

                Thread.Sleep(1);
            }
        });
        reader.Start();

        AssertNoAllocationPerRequest(served.Client);
        Volatile.Write(ref done, true);
        reader.Join();
        while (subscription.TryRead(out _))
        {
            traced++;
        }

        Assert.Equal(32 * 3200, traced + subscription.TakeLost()); // every request, warm-up included, traced or counted lost
    }

    private static void AssertNoAllocationPerRequest(NbdTestClient client)
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
