using Dmp.Nbd;
using Dmp.Stats;

namespace Dmp.Tests.Nbd;

public sealed class NbdConnectionTests : IDisposable
{
    private const long Size = 64 << 20;

    private readonly ServedConnection _served = new(Size);

    private DeviceStatistics Statistics => _served.Statistics;

    private NbdConnection Connection => _served.Connection;

    private NbdTestClient Client => _served.Client;

    public void Dispose() => _served.Dispose();

    [Fact]
    public void Many_requests_in_flight_are_all_answered_with_their_own_cookie_and_data()
    {
        const int count = NbdConnection.MaxInFlight;
        for (int i = 0; i < count; i++)
        {
            Client.Send(NbdCommand.Write, Cookie(i), (ulong)i * 4096, 4096, Pattern(i));
        }

        var written = new HashSet<ulong>();
        for (int i = 0; i < count; i++)
        {
            (uint error, ulong cookie) = Client.ReceiveReply();
            Assert.Equal(0u, error);
            Assert.True(written.Add(cookie), "one reply per request");
        }

        Assert.Equal(Enumerable.Range(0, count).Select(Cookie).ToHashSet(), written);

        for (int i = 0; i < count; i++)
        {
            Client.Send(NbdCommand.Read, Cookie(i), (ulong)i * 4096, 4096);
        }

        byte[] data = new byte[4096];
        for (int i = 0; i < count; i++)
        {
            (uint error, ulong cookie) = Client.ReceiveReply();
            Assert.Equal(0u, error);
            Client.ReceiveExactly(data);
            Assert.Equal(Pattern(IndexOf(cookie)), data);
        }
    }

    [Fact]
    public void Every_answered_request_is_counted_errors_included()
    {
        Client.Send(NbdCommand.Write, 1, 0, 1024, new byte[1024]);
        Client.Send(NbdCommand.Read, 2, 0, 4096);
        Client.Send(NbdCommand.Read, 3, Size, 512); // out of range: answered with EINVAL, still counted
        Client.Send(NbdCommand.Flush, 4, 0, 0);
        Client.Send(NbdCommand.Trim, 5, 0, 8192);
        Client.Send(NbdCommand.WriteZeroes, 6, 0, 2048);
        Client.Send(NbdCommand.BlockStatus, 7, 0, 512); // not served: answered, not counted
        var errors = new Dictionary<ulong, uint>();
        for (int i = 0; i < 7; i++)
        {
            (uint error, ulong cookie) = Client.ReceiveReply();
            errors[cookie] = error;
            if (cookie == 2)
            {
                Client.ReceiveExactly(new byte[4096]);
            }
        }

        Assert.Equal((uint)NbdError.InvalidArgument, errors[3]);
        Assert.Equal((uint)NbdError.InvalidArgument, errors[7]);
        IoCounters counters = Statistics.Snapshot();
        Assert.Equal(new OperationCounters(2, 4096 + 512, 1), counters[IoOperation.Read]);
        Assert.Equal(new OperationCounters(1, 1024, 0), counters[IoOperation.Write]);
        Assert.Equal(new OperationCounters(1, 2048, 0), counters[IoOperation.WriteZeroes]);
        Assert.Equal(new OperationCounters(1, 8192, 0), counters[IoOperation.Discard]);
        Assert.Equal(new OperationCounters(1, 0, 0), counters[IoOperation.Flush]);
    }

    [Fact]
    public async Task A_disconnect_ends_the_connection_cleanly_after_the_replies_owed()
    {
        Client.Send(NbdCommand.Write, 1, 0, 4096, new byte[4096]);
        Client.Send(NbdCommand.Disconnect, 2, 0, 0);

        Assert.Equal((0u, 1UL), Client.ReceiveReply());
        string? reason = await Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(reason);
    }

    [Fact]
    public async Task A_bad_magic_ends_the_connection_with_a_reason()
    {
        Client.Send(NbdCommand.Read, 1, 0, 512);
        Client.ReceiveReply();
        Client.ReceiveExactly(new byte[512]);

        Client.Send(NbdCommand.Read, 2, 0, 512);
        Client.SendRaw(new byte[NbdProtocol.RequestHeaderLength]); // zeroes: no magic

        Client.ReceiveReply(); // the good request before it is still answered
        Client.ReceiveExactly(new byte[512]);
        string? reason = await Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("bad request magic", reason);
    }

    [Fact]
    public async Task A_write_larger_than_the_limit_drops_the_connection()
    {
        Client.Send(NbdCommand.Write, 1, 0, NbdProtocol.MaxPayloadLength + 512);

        string? reason = await Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("exceeds", reason);
        Assert.Equal(0, Statistics.Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public async Task A_client_that_vanishes_in_the_middle_of_a_payload_ends_the_connection_without_harm()
    {
        Client.Send(NbdCommand.Write, 1, 0, 4096, new byte[100]);
        Client.Close();

        string? reason = await Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("write payload", reason);
    }

    [Fact]
    public async Task A_client_that_closes_between_requests_ends_the_connection_cleanly()
    {
        Client.Close();

        string? reason = await Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(reason);
    }

    private static ulong Cookie(int i) => 0xC0FFEE0000000000UL | (uint)i;

    private static int IndexOf(ulong cookie) => (int)(cookie & 0xffffffff);

    private static byte[] Pattern(int i) => Enumerable.Range(0, 4096).Select(b => (byte)(b ^ i)).ToArray();
}
