using Dmp.Daemon;

namespace Dmp.Tests.Daemon;

public class ControlProtocolTests
{
    [Fact]
    public void Request_fields_survive_spaces_and_percent_signs()
    {
        string[] request = ["create", "dmp 1", "1024", "/srv/100% full/disk.img"];

        string line = ControlProtocol.EncodeRequest(request);

        Assert.DoesNotContain('\n', line);
        Assert.Equal(request, ControlProtocol.DecodeRequest(line));
    }

    [Fact]
    public void An_empty_field_is_kept()
    {
        string[] request = ["stat-clear", "", "json"];

        Assert.Equal(request, ControlProtocol.DecodeRequest(ControlProtocol.EncodeRequest(request)));
    }

    [Fact]
    public void A_reply_is_its_output_then_its_status()
    {
        var reply = ControlReply.Success("nbd0: memory, 1024 bytes", "nbd1: zero, 512 bytes");
        string text = ControlProtocol.EncodeReply(reply);

        Assert.Equal("nbd0: memory, 1024 bytes\nnbd1: zero, 512 bytes\nok\n", text);
        ControlReply read = ControlProtocol.ReadReply(new StringReader(text + "anything after the status\n"))!;
        Assert.True(read.Succeeded);
        Assert.Equal(reply.Output, read.Output);
    }

    [Fact]
    public void An_error_reply_carries_its_message()
    {
        ControlReply read = ControlProtocol.ReadReply(new StringReader(ControlProtocol.EncodeReply(ControlReply.Failure("device dmp1 is in use"))))!;

        Assert.Equal("device dmp1 is in use", read.Error);
    }

    [Fact]
    public void A_reply_cut_short_is_no_reply_at_all()
    {
        Assert.Null(ControlProtocol.ReadReply(new StringReader("nbd0: memory\n")));
    }
}
