using System.Diagnostics;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>What each action does to the client's requests and to the store: errors, delays, drops, corruption, and how they are counted.</summary>
public sealed partial class FaultTests
{
    [Theory]
    [InlineData("EIO", Eio)]
    [InlineData("ENOSPC", Enospc)]
    [InlineData("EPERM", Eperm)]
    [InlineData("EINVAL", Einval)]
    [InlineData("ENOMEM", Enomem)]
    [InlineData("EOVERFLOW", Eoverflow)]
    [InlineData("ENOTSUP", Enotsup)]
    [InlineData("ESHUTDOWN", Eshutdown)]
    [InlineData("EROFS", Eperm)]
    [InlineData("EACCES", Eperm)]
    [InlineData("EDQUOT", Enospc)]
    [InlineData("ENOENT", Eio)]
    [InlineData("ETIMEDOUT", Eio)]
    [InlineData("eio", Eio)]
    public void An_error_reaches_the_client_as_the_nbd_error_it_maps_to_and_the_stream_stays_in_step(string errno, uint expected)
    {
        AddRule($"op=read error={errno}");
        AddRule($"op=write count=1 error={errno}");
        byte[] data = Pattern(4096, 7);

        Assert.Equal(expected, _client.Read(0, 4096).Error); // no data follows
        Assert.Equal(expected, _client.Write(0, data)); // its payload was taken in whole
        Assert.Equal(0u, _client.Write(0, data));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));
        Assert.Equal(expected, _client.Read(0, 4096).Error);
        Assert.Contains($"error={errno.ToUpperInvariant().Replace("ENOTSUP", "EOPNOTSUPP", StringComparison.Ordinal)}", Rules()[0].Rule);
    }

    [Theory]
    [InlineData("read")]
    [InlineData("write")]
    public void A_delayed_request_is_answered_after_its_delay_while_the_requests_behind_it_overtake_it(string operation)
    {
        NbdCommand delayed = CommandOf(operation);
        byte[] old = Pattern(4096, 1);
        byte[] fresh = Pattern(4096, 2);
        Assert.Equal(0u, _client.Write(Mebibyte, old));
        AddRule("offset=1M length=4K delay=100ms");

        var clock = Stopwatch.StartNew();
        if (delayed == NbdCommand.Read)
        {
            _client.SendRequest(NbdCommand.Read, Mebibyte, 4096, cookie: 1);
        }
        else
        {
            _client.SendRequest(NbdCommand.Write, Mebibyte, 4096, payload: fresh, cookie: 1);
        }

        _client.SendRequest(NbdCommand.Write, 0, 4096, payload: fresh, cookie: 2);
        _client.SendRequest(NbdCommand.Read, 0, 4096, cookie: 3);
        _client.SendRequest(NbdCommand.Flush, 0, 0, cookie: 4);
        var order = new List<ulong>();
        TimeSpan delayedAnswer = default;
        for (int i = 0; i < 4; i++)
        {
            (ulong cookie, uint error) = _client.ReceiveAnyReply();
            Assert.Equal(0u, error);
            order.Add(cookie);
            if (cookie == 1)
            {
                delayedAnswer = clock.Elapsed;
            }

            if (cookie == 3 || (cookie == 1 && delayed == NbdCommand.Read))
            {
                Assert.Equal(cookie == 3 ? fresh : old, _client.Receive(4096));
            }
        }

        Assert.Equal([2UL, 3, 4, 1], order);
        Assert.InRange(delayedAnswer, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        Assert.Equal(delayed == NbdCommand.Read ? old : fresh, _client.Read(Mebibyte, 4096).Data); // a delayed write is done when answered
        Assert.InRange(Operation(operation)[4], 100_000, 5_000_000); // its time_us includes the delay
    }

    [Fact]
    public void A_delay_range_holds_each_request_somewhere_within_it()
    {
        AddRule("op=read delay=20ms-60ms");

        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0u, _client.Read(0, 512).Error);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5));
        }
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    [InlineData(8 << 20)]
    public void A_dropped_write_is_acknowledged_and_not_written(int length)
    {
        byte[] old = Pattern(length, 1);
        Assert.Equal(0u, _client.Write(Mebibyte, old));
        AddRule("drop");

        Assert.Equal(0u, _client.Write(Mebibyte, Pattern(length, 2)));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));

        Assert.Equal(old, _client.Read(Mebibyte, length).Data);
        Assert.Equal(1, Rules().Single().Fired);
        Fault("clear export0");
        Assert.Equal(old, _client.Read(Mebibyte, length).Data);
    }

    [Theory]
    [InlineData("write_zeroes")]
    [InlineData("discard")]
    public void A_dropped_zeroing_or_discard_is_acknowledged_and_leaves_the_data(string operation)
    {
        byte[] old = Pattern(8192, 3);
        Assert.Equal(0u, _client.Write(0, old));
        AddRule($"op={operation} drop");

        Assert.Equal(0u, _client.Send(CommandOf(operation), 0, 8192));

        Assert.Equal(old, _client.Read(0, 8192).Data);
        Assert.Equal(1, Rules().Single().Fired);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    [InlineData(8 << 20)]
    public void A_corrupted_read_has_its_first_byte_inverted_and_the_store_is_untouched(int length)
    {
        byte[] stored = Pattern(length, 0x5a);
        Assert.Equal(0u, _client.Write(Mebibyte, stored));
        AddRule("corrupt");

        for (int i = 0; i < 2; i++)
        {
            byte[] read = _client.Read(Mebibyte, length).Data!;
            Assert.Equal((byte)~stored[0], read[0]);
            Assert.True(stored.AsSpan(1).SequenceEqual(read.AsSpan(1)), "only the first byte differs");
        }

        Assert.Equal(2, Rules().Single().Fired);
        Assert.Equal(0, Fault("clear export0").ExitCode);
        Assert.Equal(stored, _client.Read(Mebibyte, length).Data);
    }

    [Fact]
    public void An_injected_error_counts_as_an_error_in_ops()
    {
        AddRule("op=write count=3 error=EIO");

        for (int i = 0; i < 5; i++)
        {
            _client.Write((ulong)i * 512, new byte[512]);
        }

        _client.Read(0, 512);

        Assert.Equal([5, 2560, 3, 0], Operation("write")[..4]);
        Assert.Equal([1, 512, 0, 0], Operation("read")[..4]);
        Assert.Equal(3, Rules().Single().Fired);
    }

    [Theory]
    [InlineData("writeback")]
    [InlineData("none")]
    public void Rules_act_alike_on_a_file_in_either_cache_mode(string cache)
    {
        string image = Path.Combine("/var/tmp", $"dmp-faults-{Guid.NewGuid():N}.img"); // on the disk, not tmpfs: a file's own request path
        using (var file = new FileStream(image, FileMode.CreateNew))
        {
            file.SetLength(16 << 20);
        }

        try
        {
            using var server = new ServeProcess($"{image} --cache {cache}", withRunDirectory: true);
            using RawNbdClient client = RawNbdClient.Transmitting(server.Socket, "export0");
            ShellResult Rule(string arguments) => DmpBinary.Run($"--run-dir {server.RunDirectory} fault {arguments}");
            byte[] old = Pattern(65536, 1);
            byte[] fresh = Pattern(4096, 2);
            Assert.Equal(0u, client.Write(0, old));

            Assert.Equal(0, Rule("add export0 op=read error=ENOSPC").ExitCode);
            Assert.Equal(Enospc, client.Read(0, 4096).Error);
            Assert.Equal(0, Rule("clear export0").ExitCode);

            Assert.Equal(0, Rule("add export0 drop").ExitCode);
            Assert.Equal(0u, client.Write(0, fresh));
            Assert.Equal(0, Rule("clear export0").ExitCode);
            Assert.Equal(old, client.Read(0, 65536).Data);

            Assert.Equal(0, Rule("add export0 corrupt").ExitCode);
            byte[] corrupted = client.Read(0, 65536).Data!;
            Assert.Equal(0, Rule("clear export0").ExitCode);
            Assert.Equal([(byte)~old[0], .. old.AsSpan(1)], corrupted);
            Assert.Equal(old, client.Read(0, 65536).Data);

            Assert.Equal(0, Rule("add export0 offset=8K length=4K delay=100ms").ExitCode);
            var clock = Stopwatch.StartNew();
            client.SendRequest(NbdCommand.Write, 8192, 4096, payload: fresh, cookie: 1);
            client.SendRequest(NbdCommand.Read, 0, 4096, cookie: 2);
            client.SendRequest(NbdCommand.Flush, 0, 0, cookie: 3);
            Assert.Equal((2UL, 0u), client.ReceiveAnyReply());
            Assert.Equal(old[..4096], client.Receive(4096));
            Assert.Equal((3UL, 0u), client.ReceiveAnyReply());
            Assert.Equal((1UL, 0u), client.ReceiveAnyReply());
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
            Assert.Equal(fresh, client.Read(8192, 4096).Data);
        }
        finally
        {
            File.Delete(image);
        }
    }
}
