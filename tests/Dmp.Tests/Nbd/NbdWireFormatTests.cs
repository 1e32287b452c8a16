using Dmp.Nbd;

namespace Dmp.Tests.Nbd;

public class NbdWireFormatTests
{
    [Fact]
    public void A_request_is_read_from_28_big_endian_bytes()
    {
        byte[] bytes =
        [
            0x25, 0x60, 0x95, 0x13, // magic
            0x00, 0x00,             // flags
            0x00, 0x00,             // READ
            1, 2, 3, 4, 5, 6, 7, 8, // cookie
            0, 0, 0, 0, 0, 0, 0x10, 0x00, // offset 4096
            0, 0, 0x02, 0x00,       // length 512
        ];

        Assert.True(NbdRequestHeader.TryRead(bytes, out NbdRequestHeader header));
        Assert.Equal(NbdCommand.Read, header.Command);
        Assert.Equal(NbdCommandFlags.None, header.Flags);
        Assert.Equal(0x0102030405060708UL, header.Cookie);
        Assert.Equal(4096UL, header.Offset);
        Assert.Equal(512U, header.Length);
    }

    [Fact]
    public void The_kernels_fua_write_encoding_splits_into_flags_and_type()
    {
        // The kernel writes htonl(NBD_CMD_WRITE | NBD_CMD_FLAG_FUA) where the flag is 1 << 16.
        byte[] bytes = new byte[NbdProtocol.RequestHeaderLength];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, NbdProtocol.RequestMagic);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 1u | (1u << 16));

        Assert.True(NbdRequestHeader.TryRead(bytes, out NbdRequestHeader header));
        Assert.Equal(NbdCommand.Write, header.Command);
        Assert.Equal(NbdCommandFlags.ForceUnitAccess, header.Flags);
    }

    [Fact]
    public void A_request_with_a_wrong_magic_is_refused()
    {
        byte[] bytes = new byte[NbdProtocol.RequestHeaderLength];
        bytes[0] = 0x67; // a reply magic where a request magic belongs

        Assert.False(NbdRequestHeader.TryRead(bytes, out _));
    }

    [Fact]
    public void A_short_buffer_is_refused()
    {
        Assert.False(NbdRequestHeader.TryRead(new byte[10], out _));
    }

    [Fact]
    public void A_simple_reply_is_magic_error_and_the_cookie_verbatim()
    {
        byte[] reply = new byte[NbdProtocol.SimpleReplyLength];
        NbdSimpleReply.Write(reply, NbdError.NoSpace, 0xA1B2C3D4E5F60718UL);

        Assert.Equal(
            new byte[] { 0x67, 0x44, 0x66, 0x98, 0, 0, 0, 28, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18 },
            reply);
    }

    [Theory]
    [InlineData(0, NbdError.None)]
    [InlineData(5, NbdError.InputOutput)]
    [InlineData(28, NbdError.NoSpace)]
    [InlineData(30 /* EROFS */, NbdError.NotPermitted)]
    [InlineData(122 /* EDQUOT */, NbdError.NoSpace)]
    [InlineData(2 /* ENOENT: not an NBD error */, NbdError.InputOutput)]
    public void Store_errors_map_to_errors_the_protocol_defines(int errno, int expected)
    {
        Assert.Equal(expected, NbdError.FromErrno(errno));
    }
}
