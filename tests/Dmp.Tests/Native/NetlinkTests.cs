using Dmp.Native;
using Dmp.Native.Netlink;

namespace Dmp.Tests.Native;

public class NetlinkTests
{
    [Fact]
    public void A_message_is_headers_then_aligned_attributes_with_nesting()
    {
        var message = new GenericNetlinkMessage(familyId: 0x1234, command: 1, version: 1)
            .AddUInt32(1, 0xAABBCCDD)
            .AddString(10, "abcde");
        int nested = message.BeginNested(7);
        message.AddUInt64(2, 1);
        message.EndNested(nested);

        byte[] bytes = message.Complete(sequence: 5, flags: 0x5).ToArray();

        byte[] expected =
        [
            56, 0, 0, 0, 0x34, 0x12, 0x05, 0x00, 5, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr: length 56, type, flags, seq, port 0
            1, 1, 0, 0,                                                  // genlmsghdr: command 1, version 1
            8, 0, 1, 0, 0xDD, 0xCC, 0xBB, 0xAA,                          // u32 attribute 1
            10, 0, 10, 0, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', 0, 0, 0, // "abcde\0", padded to 4
            16, 0, 7, 0x80,                                              // nested attribute 7 (NLA_F_NESTED), 16 bytes
            12, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0,                         // u64 attribute 2 inside it
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Attributes_are_read_back_including_nested_ones_and_a_truncated_one_ends_the_walk()
    {
        byte[] attributes =
        [
            8, 0, 1, 0, 42, 0, 0, 0,
            12, 0, 0x09, 0x80, 8, 0, 1, 0, 7, 0, 0, 0,
            200, 0, 3, 0, // claims more than there is
        ];
        var reader = new NetlinkAttributes(attributes);

        Assert.True(reader.TryGetUInt32(1, out uint value));
        Assert.Equal(42u, value);
        Assert.True(reader.TryGet(9, out ReadOnlySpan<byte> nested));
        Assert.True(new NetlinkAttributes(nested).TryGetUInt32(1, out uint inner));
        Assert.Equal(7u, inner);
        Assert.False(reader.TryGet(3, out _));
    }

    [Fact]
    public void The_host_kernel_resolves_the_generic_netlink_controller_itself()
    {
        using var socket = GenericNetlinkSocket.Open();

        Assert.Equal(Netlink.ControllerFamilyId, socket.ResolveFamily("nlctrl"));
        Assert.Null(socket.ResolveFamily("no-such-family"));
    }
    [Theory]
    [InlineData(new byte[] { 18, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // an error message without its errno
    [InlineData(new byte[] { 18, 0, 0, 0, 0x20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1 })] // a family answer without its genl header
    [InlineData(new byte[] { 32, 0, 0, 0, 0x20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0 })] // longer than what was received
    public void A_reply_shorter_than_its_headers_is_refused_as_a_protocol_error(byte[] received)
    {
        byte[] attributes = [];

        var error = Assert.Throws<NativeException>(() => GenericNetlinkSocket.ReadMessages(received, 1, 0x20, ref attributes));

        Assert.Equal(Tmds.Linux.LibC.EPROTO, error.ErrorNumber);
    }

    [Theory]
    [InlineData(0xffffffffu)] // an echo that claims 4 GiB
    [InlineData(17u)] // an echo that ends 2 bytes before the message does, its padding past it
    public void An_ack_whose_echo_does_not_fit_the_message_gives_its_error_without_a_message(uint echoLength)
    {
        byte[] received =
        [
            38, 0, 0, 0, 2, 0, 0x00, 0x02, 1, 0, 0, 0, 0, 0, 0, 0, // NLMSG_ERROR with NLM_F_ACK_TLVS, sequence 1
            0xf0, 0xff, 0xff, 0xff,                                 // -16: EBUSY
            0, 0, 0, 0, 0x20, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0,      // the echoed request header (its length set below)
            0, 0,
        ];
        BitConverter.TryWriteBytes(received.AsSpan(20), echoLength);
        byte[] attributes = [];

        NetlinkReply? reply = GenericNetlinkSocket.ReadMessages(received, 1, 0x20, ref attributes);

        Assert.Equal(16, reply?.ErrorNumber);
        Assert.Null(reply?.KernelMessage);
    }
}
