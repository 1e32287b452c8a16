using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Tests.Native;

public sealed class SocketWriterTests : IDisposable
{
    private readonly FileDescriptor _ours;
    private readonly FileDescriptor _theirs;
    private readonly SocketWriter _writer;

    public SocketWriterTests()
    {
        (_ours, _theirs) = StreamSocket.CreatePair();
        _writer = new SocketWriter(_ours.Value, 4096);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _ours.Dispose();
        _theirs.Dispose();
    }

    [Fact]
    public void A_batch_goes_out_only_when_flushed()
    {
        Append([1, 2, 3]);
        Append([4]);
        Assert.Equal(0, Pending());

        Assert.Equal(0, _writer.Flush());
        Assert.Equal([1, 2, 3, 4], Receive(4));
    }

    [Fact]
    public void A_span_that_would_not_fit_sends_the_batch_first()
    {
        Append(new byte[4000]);
        Span<byte> span = _writer.GetSpan(200);

        Assert.Equal(4000, Pending());
        Assert.Equal(200, span.Length);
    }

    [Fact]
    public void Send_puts_the_payload_behind_the_batch()
    {
        Append([9]);
        byte[] payload = Enumerable.Range(0, 10000).Select(i => (byte)i).ToArray();

        Assert.Equal(0, _writer.Send(payload));
        Assert.Equal(new byte[] { 9 }.Concat(payload).ToArray(), Receive(10001));
    }

    [Fact]
    public void The_first_failure_sticks_and_later_sends_are_dropped()
    {
        _theirs.Dispose();
        Append([1]);

        Assert.Equal(LibC.EPIPE, _writer.Flush());
        Append([2]);
        Assert.Equal(LibC.EPIPE, _writer.Send([3]));
        Assert.Equal(LibC.EPIPE, _writer.Error);
    }

    [Fact]
    public void Replies_of_a_batch_that_failed_and_every_one_after_count_as_lost()
    {
        Append([1]);
        Append([2]);
        Assert.Equal(0, _writer.Flush());
        Assert.Equal(0, _writer.Lost);

        _theirs.Dispose();
        Append([3]);
        Append([4]);
        Assert.Equal(LibC.EPIPE, _writer.Flush());
        Append([5]);
        Assert.Equal(LibC.EPIPE, _writer.Send([6]));
        Assert.Equal(3, _writer.Lost);
    }

    private void Append(byte[] bytes)
    {
        bytes.CopyTo(_writer.GetSpan(bytes.Length));
        _writer.Advance(bytes.Length);
    }

    private byte[] Receive(int count)
    {
        byte[] bytes = new byte[count];
        Assert.Equal(0, StreamSocket.ReceiveExactly(_theirs.Value, bytes));
        return bytes;
    }

    private int Pending() => Math.Max(0, StreamSocket.Receive(_theirs.Value, new byte[8192], wait: false));
}
