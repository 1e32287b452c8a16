using System.Diagnostics;
using Dmp.Nbd;
using Dmp.Stats;

namespace Dmp.Tests.Nbd;

/// <summary>
/// The transmission phase on each of its paths: a memory store served inline on the receiving thread,
/// files on the disk and on tmpfs in both cache modes served through io_uring, and a file served on the
/// thread pool (<see cref="ServedConnection.Backings"/>). Every test runs on each.
/// </summary>
public sealed class NbdConnectionTests
{
    private const long Size = 64 << 20;

    public static TheoryData<string> Backings => [.. ServedConnection.Backings];

    [Theory]
    [MemberData(nameof(Backings))]
    public void Many_requests_in_flight_are_all_answered_with_their_own_cookie_and_data(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        const int count = NbdConnection.MaxInFlight;
        for (int i = 0; i < count; i++)
        {
            client.Send(NbdCommand.Write, Cookie(i), (ulong)i * 4096, 4096, Pattern(i));
        }

        var written = new HashSet<ulong>();
        for (int i = 0; i < count; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal(0u, error);
            Assert.True(written.Add(cookie), "one reply per request");
        }

        Assert.Equal(Enumerable.Range(0, count).Select(Cookie).ToHashSet(), written);

        for (int i = 0; i < count; i++)
        {
            client.Send(NbdCommand.Read, Cookie(i), (ulong)i * 4096, 4096);
        }

        byte[] data = new byte[4096];
        for (int i = 0; i < count; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal(0u, error);
            client.ReceiveExactly(data);
            Assert.Equal(Pattern(IndexOf(cookie)), data);
        }
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Every_answered_request_is_counted_errors_included(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Write, 1, 0, 1024, new byte[1024]);
        client.Send(NbdCommand.Read, 2, 0, 4096);
        client.Send(NbdCommand.Read, 3, Size, 512); // out of range: answered with EINVAL, still counted
        client.Send(NbdCommand.Flush, 4, 0, 0);
        client.Send(NbdCommand.Trim, 5, 0, 8192);
        client.Send(NbdCommand.WriteZeroes, 6, 0, 2048);
        client.Send(NbdCommand.BlockStatus, 7, 0, 512); // not served: answered, not counted
        var errors = new Dictionary<ulong, uint>();
        for (int i = 0; i < 7; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            errors[cookie] = error;
            if (cookie == 2)
            {
                client.ReceiveExactly(new byte[4096]);
            }
        }

        Assert.Equal((uint)NbdError.InvalidArgument, errors[3]);
        Assert.Equal((uint)NbdError.InvalidArgument, errors[7]);
        IoCounters counters = served.Statistics.Snapshot();
        Assert.Equal(new OperationCounters(2, 4096 + 512, 1), counters[IoOperation.Read]);
        Assert.Equal(new OperationCounters(1, 1024, 0), counters[IoOperation.Write]);
        Assert.Equal(new OperationCounters(1, 2048, 0), counters[IoOperation.WriteZeroes]);
        Assert.Equal(new OperationCounters(1, 8192, 0), counters[IoOperation.Discard]);
        Assert.Equal(new OperationCounters(1, 0, 0), counters[IoOperation.Flush]);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Zeroed_ranges_read_back_as_zeroes_whatever_the_flags_and_the_rest_is_untouched(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        byte[] pattern = [.. Enumerable.Range(0, 16).SelectMany(Pattern)];
        client.Send(NbdCommand.Write, 1, 0, (uint)pattern.Length, pattern);
        Assert.Equal((0u, 1UL), client.ReceiveReply());

        client.Send(NbdCommand.WriteZeroes, 2, 0, 8192);
        client.Send(NbdCommand.WriteZeroes, 3, 8192, 8192, flags: NbdCommandFlags.NoHole);
        client.Send(NbdCommand.WriteZeroes, 4, 16384, 8192, flags: NbdCommandFlags.FastZero);
        client.Send(NbdCommand.WriteZeroes, 5, 24576, 8192, flags: NbdCommandFlags.ForceUnitAccess);
        client.Send(NbdCommand.WriteZeroes, 6, 40960 + 512, 1024, flags: NbdCommandFlags.NoHole); // not page-aligned
        client.Send(NbdCommand.Trim, 7, 49152, 4096);
        client.Send(NbdCommand.Trim, 8, 57344, 4096, flags: NbdCommandFlags.ForceUnitAccess);
        var answered = new HashSet<ulong>();
        for (int i = 0; i < 7; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal((0u, cookie), (error, cookie));
            answered.Add(cookie);
        }

        Assert.Equal(new ulong[] { 2, 3, 4, 5, 6, 7, 8 }, answered.Order());
        byte[] expected = pattern[..49152];
        Array.Clear(expected, 0, 32768);
        Array.Clear(expected, 40960 + 512, 1024);
        Assert.Equal(expected, client.ReadBack(9, 0, expected.Length)); // trimmed ranges may read as anything
        Assert.Equal(new OperationCounters(5, 4 * 8192 + 1024, 0), served.Statistics.Snapshot()[IoOperation.WriteZeroes]);
        Assert.Equal(new OperationCounters(2, 8192, 0), served.Statistics.Snapshot()[IoOperation.Discard]);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_disconnect_ends_the_connection_cleanly_after_the_replies_owed_and_says_it_was_asked_for(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Write, 1, 0, 4096, new byte[4096]);
        client.Send(NbdCommand.Disconnect, 2, 0, 0);

        Assert.Equal((0u, 1UL), client.ReceiveReply());
        string? reason = await EndOf(served);
        Assert.Null(reason);
        Assert.True(served.Connection.DisconnectRequested);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_bad_magic_ends_the_connection_with_a_reason(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Read, 1, 0, 512);
        client.ReceiveReply();
        client.ReceiveExactly(new byte[512]);

        client.Send(NbdCommand.Read, 2, 0, 512);
        client.SendRaw(new byte[NbdProtocol.RequestHeaderLength]); // zeroes: no magic

        client.ReceiveReply(); // the good request before it is still answered
        client.ReceiveExactly(new byte[512]);
        string? reason = await EndOf(served);
        Assert.Equal("bad request magic", reason);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_write_larger_than_the_limit_drops_the_connection(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Write, 1, 0, NbdProtocol.MaxPayloadLength + 512);

        string? reason = await EndOf(served);
        Assert.Contains("exceeds", reason);
        Assert.Equal(0, served.Statistics.Snapshot()[IoOperation.Write].Requests);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_client_that_vanishes_in_the_middle_of_a_payload_ends_the_connection_without_harm(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Write, 1, 0, 4096, new byte[100]);
        client.Close();

        string? reason = await EndOf(served);
        Assert.Contains("write payload", reason);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_client_that_closes_between_requests_ends_the_connection_cleanly_without_asking_to_disconnect(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Close();

        string? reason = await EndOf(served);
        Assert.Null(reason);
        Assert.False(served.Connection.DisconnectRequested);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Requests_larger_than_a_batch_are_served_whole_between_small_ones(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        byte[] large = Enumerable.Range(0, 4 << 20).Select(b => (byte)(b * 7 + 1)).ToArray();
        client.Send(NbdCommand.Write, 1, 4096, (uint)large.Length, large);
        Assert.Equal((0u, 1UL), client.ReceiveReply()); // requests in flight together may run in any order
        client.Send(NbdCommand.Read, 2, 0, 4096);
        client.Send(NbdCommand.Read, 3, 4096, (uint)large.Length);
        client.Send(NbdCommand.Read, 4, 4096, 512);

        var data = new Dictionary<ulong, byte[]>();
        for (int i = 0; i < 3; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal(0u, error);
            data[cookie] = new byte[cookie switch { 2 => 4096, 3 => large.Length, _ => 512 }];
            client.ReceiveExactly(data[cookie]);
        }

        Assert.Equal(new byte[4096], data[2]);
        Assert.Equal(large, data[3]);
        Assert.Equal(large[..512], data[4]);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void A_large_request_past_the_end_is_refused_and_the_next_one_served(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        const uint large = 1 << 20;
        client.Send(NbdCommand.Write, 1, Size - 4096, large, new byte[large]);
        Assert.Equal(((uint)NbdError.NoSpace, 1UL), client.ReceiveReply());
        client.Send(NbdCommand.Read, 2, Size - 4096, large);
        Assert.Equal(((uint)NbdError.InvalidArgument, 2UL), client.ReceiveReply()); // and no data follows

        client.Send(NbdCommand.Write, 3, 0, 4096, Pattern(3));
        Assert.Equal((0u, 3UL), client.ReceiveReply());
        Assert.Equal(Pattern(3), client.ReadBack(4, 0, 4096));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("memory")]
    public void Large_requests_on_stores_served_inline_are_answered_whole(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        byte[] data = Enumerable.Range(0, 2 << 20).Select(b => (byte)(b % 251 + 1)).ToArray();
        client.Send(NbdCommand.Write, 1, 0, (uint)data.Length, data);
        Assert.Equal((0u, 1UL), client.ReceiveReply());
        byte[] readBack = client.ReadBack(2, 0, data.Length);

        Assert.Equal(backing == "zero" ? new byte[data.Length] : data, readBack);
        IoCounters counters = served.Statistics.Snapshot();
        Assert.Equal(2, counters[IoOperation.Write].Requests + counters[IoOperation.Read].Requests);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void A_request_that_arrives_in_pieces_is_served_once_it_is_whole(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        byte[] request = new byte[NbdProtocol.RequestHeaderLength];
        new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Write, 9, 8192, 4096).Write(request);
        byte[] payload = Pattern(9);

        client.SendRaw(request.AsSpan(0, 10));
        Thread.Sleep(20);
        client.SendRaw(request.AsSpan(10));
        client.SendRaw(payload.AsSpan(0, 1000));
        Thread.Sleep(20);
        client.SendRaw(payload.AsSpan(1000));
        Assert.Equal((0u, 9UL), client.ReceiveReply());

        Assert.Equal(payload, client.ReadBack(10, 8192, 4096));
    }

    /// <summary>A WRITE_ZEROES with FUA runs on a worker, here for half a second: the reads behind it complete on
    /// the ring first, and their replies overtake.</summary>
    [Theory]
    [InlineData("disk-none")]
    [InlineData("disk-writeback")]
    public void A_slow_request_does_not_hold_up_the_replies_to_quick_ones_behind_it(string backing)
    {
        using var served = new ServedConnection(Size, backing, slowZeroes: TimeSpan.FromMilliseconds(500));
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.WriteZeroes, 1, 0, 32 << 20, flags: NbdCommandFlags.NoHole | NbdCommandFlags.ForceUnitAccess);
        for (int i = 0; i < 8; i++)
        {
            client.Send(NbdCommand.Read, (ulong)(10 + i), (ulong)(Size - 4096), 4096);
        }

        var order = new List<ulong>();
        for (int i = 0; i < 9; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal(0u, error);
            order.Add(cookie);
            if (cookie != 1)
            {
                client.ReceiveExactly(new byte[4096]);
            }
        }

        Assert.Equal(1UL, order[^1]);
        Assert.Equal(new OperationCounters(1, 32 << 20, 0), served.Statistics.Snapshot()[IoOperation.WriteZeroes]);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_client_that_does_not_read_its_replies_is_no_longer_read_and_holds_up_no_worker_of_the_pool(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        long sent = 0;
        Task sending = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; ; i++)
                {
                    served.Client.Send(NbdCommand.Read, Cookie(i), (ulong)(i % 1024) * 65536, 65536);
                    Interlocked.Increment(ref sent);
                }
            },
            TaskCreationOptions.LongRunning);
        for (int i = 0; i < 6; i++)
        {
            // Both the delay's timer and the work item need a worker of the pool. Held up, they took minutes; the
            // bound leaves room for a machine that other tests keep busy.
            var round = Stopwatch.StartNew();
            await Task.Delay(500);
            await Task.Run(() => { });
            Assert.True(round.Elapsed < TimeSpan.FromSeconds(10), $"half a second's wait and a work item took {round.Elapsed}: the pool's workers are held up");
        }

        long seen = Interlocked.Read(ref sent);
        await Task.Delay(1000);
        Assert.Equal(seen, Interlocked.Read(ref sent)); // the connection no longer reads from it
        served.Client.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => sending);
        await EndOf(served);
    }

    /// <summary>Why the connection ended, once it has (null: cleanly).</summary>
    private static Task<string?> EndOf(ServedConnection served) => served.Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));

    private static ulong Cookie(int i) => 0xC0FFEE0000000000UL | (uint)i;

    private static int IndexOf(ulong cookie) => (int)(cookie & 0xffffffff);

    private static byte[] Pattern(int i) => Enumerable.Range(0, 4096).Select(b => (byte)(b ^ i)).ToArray();
}
