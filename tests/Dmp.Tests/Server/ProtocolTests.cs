using System.Buffers.Binary;
using System.Text;
using Dmp.Nbd;

namespace Dmp.Tests.Server;

/// <summary>
/// dmp serve's answers to what a client may send, right or wrong: the handshake's options, and requests
/// that are out of range, too big, unknown, malformed, or forbidden on a read-only export.
/// </summary>
public sealed class ProtocolTests : IDisposable
{
    private const long Size = 64 << 20;

    private readonly ServeProcess _server = new("memory zero --size 64M", withRunDirectory: true);
    private readonly ServeProcess _readOnly = new("zero --size 1M --read-only");

    public void Dispose()
    {
        _server.Dispose();
        _readOnly.Dispose();
    }

    [Fact]
    public void The_greeting_is_fixed_newstyle_without_zeroes()
    {
        using var client = new RawNbdClient(_server.Socket);

        (ulong magic, ulong optionMagic, ushort flags) = client.ReceiveGreeting();

        Assert.Equal((NbdProtocol.HandshakeMagic, NbdProtocol.OptionMagic, (ushort)3), (magic, optionMagic, flags));
    }

    [Fact]
    public void Unknown_client_flags_end_the_connection()
    {
        using var client = new RawNbdClient(_server.Socket);
        client.ReceiveGreeting();

        client.SendUInt32(1u << 7);

        Assert.True(client.IsClosedByServer());
    }

    [Theory]
    [InlineData((uint)NbdOption.StartTls, "TLS is not supported")]
    [InlineData((uint)NbdOption.StructuredReply, "structured replies are not supported")]
    [InlineData((uint)NbdOption.ListMetaContext, "metadata contexts are not supported")]
    [InlineData((uint)NbdOption.ExtendedHeaders, "option 11 is not supported")]
    [InlineData(99u, "option 99 is not supported")]
    public void Options_dmp_does_not_implement_get_an_unsupported_reply_and_the_client_may_go_on(uint option, string message)
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption((NbdOption)option, []);
        (NbdOption replied, NbdOptionReplyType type, byte[] data) = client.ReceiveOptionReply();

        Assert.Equal(((NbdOption)option, NbdOptionReplyType.ErrorUnsupported, message), (replied, type, Encoding.UTF8.GetString(data)));
        client.SendOption(NbdOption.List, []);
        Assert.Equal(NbdOptionReplyType.Server, client.ReceiveOptionReply().Type);
    }

    [Fact]
    public void List_names_every_export_then_acknowledges()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.List, []);

        var names = new List<string>();
        for (var reply = client.ReceiveOptionReply(); reply.Type != NbdOptionReplyType.Ack; reply = client.ReceiveOptionReply())
        {
            Assert.Equal(NbdOptionReplyType.Server, reply.Type);
            Assert.Equal(reply.Data.Length - 4, (int)BinaryPrimitives.ReadUInt32BigEndian(reply.Data));
            names.Add(Encoding.UTF8.GetString(reply.Data, 4, reply.Data.Length - 4));
        }

        Assert.Equal(["export0", "export1"], names);
    }

    [Fact]
    public void List_with_data_is_invalid()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.List, [1, 2, 3]);

        Assert.Equal(NbdOptionReplyType.ErrorInvalid, client.ReceiveOptionReply().Type);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 9, (byte)'x', 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 2, 0, 3 })]
    public void A_malformed_go_is_invalid(byte[] request)
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.Go, request);

        Assert.Equal(NbdOptionReplyType.ErrorInvalid, client.ReceiveOptionReply().Type);
    }

    [Fact]
    public void Go_to_an_unknown_export_is_refused_and_the_client_may_try_again()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.Go, RawNbdClient.GoRequest("nothing"));
        (_, NbdOptionReplyType type, byte[] message) = client.ReceiveOptionReply();

        Assert.Equal((NbdOptionReplyType.ErrorUnknown, "no export named 'nothing'"), (type, Encoding.UTF8.GetString(message)));
        client.SendOption(NbdOption.Go, RawNbdClient.GoRequest("export1"));
        Assert.Equal(NbdOptionReplyType.Info, client.ReceiveOptionReply().Type);
    }

    [Fact]
    public void Info_gives_the_export_its_name_its_description_and_block_sizes()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.Info, RawNbdClient.GoRequest("", (ushort)NbdInfoType.Name, (ushort)NbdInfoType.Description, (ushort)NbdInfoType.BlockSize));

        var items = new Dictionary<NbdInfoType, byte[]>();
        for (var reply = client.ReceiveOptionReply(); reply.Type == NbdOptionReplyType.Info; reply = client.ReceiveOptionReply())
        {
            items[(NbdInfoType)BinaryPrimitives.ReadUInt16BigEndian(reply.Data)] = reply.Data[2..];
        }

        Assert.Equal((ulong)Size, BinaryPrimitives.ReadUInt64BigEndian(items[NbdInfoType.Export]));
        Assert.Equal("export0", Encoding.UTF8.GetString(items[NbdInfoType.Name]));
        Assert.Equal("memory", Encoding.UTF8.GetString(items[NbdInfoType.Description]));
        Assert.Equal(32u << 20, BinaryPrimitives.ReadUInt32BigEndian(items[NbdInfoType.BlockSize].AsSpan(8)));

        // NBD_OPT_INFO does not start transmission: the client may still list, or go.
        client.SendOption(NbdOption.List, []);
        Assert.Equal(NbdOptionReplyType.Server, client.ReceiveOptionReply().Type);
    }

    [Fact]
    public void Export_name_answers_with_size_and_flags_or_hangs_up_on_an_unknown_name()
    {
        using (RawNbdClient client = RawNbdClient.Negotiating(_server.Socket))
        {
            client.SendOption(NbdOption.ExportName, Encoding.UTF8.GetBytes("export1"));
            byte[] reply = client.Receive(10);
            Assert.Equal((ulong)Size, BinaryPrimitives.ReadUInt64BigEndian(reply));
            Assert.Equal((ushort)NbdExport.FlagsFor(readOnly: false), BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(8)));
            client.SendRequest(NbdCommand.Read, 0, 512);
            Assert.Equal(0u, client.ReceiveReply());
        }

        using RawNbdClient unknown = RawNbdClient.Negotiating(_server.Socket);
        unknown.SendOption(NbdOption.ExportName, Encoding.UTF8.GetBytes("nothing"));
        Assert.True(unknown.IsClosedByServer());
    }

    [Fact]
    public void Abort_is_acknowledged_and_the_connection_closed()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);

        client.SendOption(NbdOption.Abort, []);

        Assert.Equal(NbdOptionReplyType.Ack, client.ReceiveOptionReply().Type);
        Assert.True(client.IsClosedByServer());
    }

    [Fact]
    public void A_bad_option_magic_or_an_oversized_option_ends_the_connection()
    {
        using (RawNbdClient client = RawNbdClient.Negotiating(_server.Socket))
        {
            client.SendOptionHeader(0x1122334455667788, NbdOption.List, 0);
            Assert.True(client.IsClosedByServer());
        }

        using RawNbdClient huge = RawNbdClient.Negotiating(_server.Socket);
        huge.SendOptionHeader(NbdProtocol.OptionMagic, NbdOption.Go, uint.MaxValue);
        Assert.True(huge.IsClosedByServer());
    }

    [Theory]
    [InlineData((ushort)NbdCommand.Read, Size - 512, 1024u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Write, Size - 512, 1024u, 0, NbdError.NoSpace)]
    [InlineData((ushort)NbdCommand.WriteZeroes, Size, 512u, 0, NbdError.NoSpace)]
    [InlineData((ushort)NbdCommand.Trim, ulong.MaxValue - 100, 512u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Cache, Size, 512u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Read, 0, (uint)(32 << 20) + 1, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Read, 0, 0u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.BlockStatus, 0, 512u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)77, 0, 512u, 0, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Read, 0, 512u, (int)NbdCommandFlags.NoHole, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.Read, 0, 512u, (int)NbdCommandFlags.DontFragment, NbdError.InvalidArgument)]
    [InlineData((ushort)NbdCommand.WriteZeroes, 0, 8192u, (int)(NbdCommandFlags.NoHole | NbdCommandFlags.FastZero), NbdError.NotSupported)]
    [InlineData((ushort)NbdCommand.WriteZeroes, 0, 8192u, (int)NbdCommandFlags.FastZero, NbdError.None)]
    [InlineData((ushort)NbdCommand.Flush, 0, 0u, (int)NbdCommandFlags.ForceUnitAccess, NbdError.None)]
    [InlineData((ushort)NbdCommand.Cache, 0, 4096u, 0, NbdError.None)]
    public void Each_request_gets_its_documented_answer_and_the_connection_goes_on(ushort command, ulong offset, uint length, int flags, int expected)
    {
        using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, "export0");
        byte[]? payload = command == (ushort)NbdCommand.Write ? new byte[length] : null;

        client.SendRequest((NbdCommand)command, offset, length, (NbdCommandFlags)flags, payload);

        Assert.Equal((uint)expected, client.ReceiveReply());
        client.SendRequest(NbdCommand.Read, 0, 512, cookie: 2);
        Assert.Equal(0u, client.ReceiveReply(cookie: 2));
        Assert.Equal(512, client.Receive(512).Length);
    }

    [Theory]
    [InlineData((ushort)NbdCommand.Write)]
    [InlineData((ushort)NbdCommand.Trim)]
    [InlineData((ushort)NbdCommand.WriteZeroes)]
    public void A_read_only_export_refuses_changes_with_eperm(ushort command)
    {
        using RawNbdClient client = RawNbdClient.Transmitting(_readOnly.Socket);

        client.SendRequest((NbdCommand)command, 0, 512, payload: command == (ushort)NbdCommand.Write ? new byte[512] : null);

        Assert.Equal((uint)NbdError.NotPermitted, client.ReceiveReply());
        Assert.Contains("is_read_only: true", Shell.Run($"nbdinfo '{_readOnly.Uri()}'").Output);
    }

    [Fact]
    public void A_bad_request_magic_or_an_oversized_write_ends_the_connection()
    {
        using (RawNbdClient client = RawNbdClient.Transmitting(_server.Socket))
        {
            client.SendRaw(new byte[NbdProtocol.RequestHeaderLength]);
            Assert.True(client.IsClosedByServer());
        }

        using RawNbdClient huge = RawNbdClient.Transmitting(_server.Socket);
        huge.SendRequest(NbdCommand.Write, 0, uint.MaxValue);
        Assert.True(huge.IsClosedByServer());
        Assert.True(
            SpinWait.SpinUntil(() => _server.Log.Any(line => line.Contains("exceeds the 33554432-byte limit", StringComparison.Ordinal)), 5000),
            "the server logs why it hung up");
    }

    [Fact]
    public void A_client_that_vanishes_mid_request_loses_nothing_already_acknowledged()
    {
        byte[] data = Enumerable.Range(0, 4096).Select(i => (byte)(i * 13)).ToArray();
        using (RawNbdClient writer = RawNbdClient.Transmitting(_server.Socket))
        {
            writer.SendRequest(NbdCommand.Write, 8192, 4096, payload: data);
            Assert.Equal(0u, writer.ReceiveReply());
            writer.SendRequest(NbdCommand.Write, 0, 4096, cookie: 2);
            writer.SendRaw(new byte[100]); // and then the client is gone
        }

        using RawNbdClient reader = RawNbdClient.Transmitting(_server.Socket);
        reader.SendRequest(NbdCommand.Read, 8192, 4096);
        Assert.Equal(0u, reader.ReceiveReply());
        Assert.Equal(data, reader.Receive(4096));
    }

    [Fact]
    public void A_silent_client_holds_up_nobody()
    {
        using var silent = new RawNbdClient(_server.Socket);

        Assert.Equal(0, Shell.Run($"nbdinfo --size '{_server.Uri()}'").ExitCode);
    }

    [Fact]
    public void The_stats_count_exactly_what_each_client_sent()
    {
        using (RawNbdClient first = RawNbdClient.Transmitting(_server.Socket, "export0"))
        using (RawNbdClient second = RawNbdClient.Transmitting(_server.Socket, "export0"))
        {
            for (int i = 0; i < 5; i++)
            {
                first.SendRequest(NbdCommand.Read, (ulong)i * 4096, 4096);
                Assert.Equal(0u, first.ReceiveReply());
                first.Receive(4096);
            }

            for (int i = 0; i < 3; i++)
            {
                second.SendRequest(NbdCommand.Write, (ulong)i * 512, 512, payload: new byte[512]);
                Assert.Equal(0u, second.ReceiveReply());
            }

            second.SendRequest(NbdCommand.Flush, 0, 0);
            Assert.Equal(0u, second.ReceiveReply());
        }

        // reads 5 x 4096; writes 3 x 512; total (20480 + 1536) / 8 = 2752
        string expected = "read:\n reqs: 5\n avg size: 4096\nwrite:\n reqs: 3\n avg size: 512\ntotal:\n reqs: 8\n avg size: 2752\n";
        Assert.Equal(expected, File.ReadAllText(Path.Combine(_server.RunDirectory, "module", "devices", "export0", "volumes")));
        Assert.Equal(expected, File.ReadAllText(Path.Combine(_server.RunDirectory, "module", "stat", "volumes")));
        Assert.Equal(
            "       5        0       40        0        3        0        3        0        0        0        0        0        0        0        0        1        0\n",
            File.ReadAllText(Path.Combine(_server.RunDirectory, "module", "devices", "export0", "stat")));
    }
}
