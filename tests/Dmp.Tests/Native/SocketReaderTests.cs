using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Tests.Native;

public sealed class SocketReaderTests : IDisposable
{
    private readonly FileDescriptor _ours;
    private readonly FileDescriptor _theirs;
    private readonly SocketReader _reader;

    public SocketReaderTests()
    {
        (_ours, _theirs) = StreamSocket.CreatePair();
        _reader = new SocketReader(_ours.Value, 8192, TimeSpan.FromMicroseconds(50));
    }

    public void Dispose()
    {
        _reader.Dispose();
        _ours.Dispose();
        _theirs.Dispose();
    }

    [Fact]
    public void TryFill_reports_EAGAIN_while_the_peer_has_sent_too_little()
    {
        Assert.Equal(LibC.EAGAIN, _reader.TryFill(1));
        Send(new byte[3]);
        Assert.Equal(LibC.EAGAIN, _reader.TryFill(4));
        Assert.Equal(3, _reader.Buffered.Length);
    }

    [Fact]
    public void One_fill_takes_in_everything_the_peer_has_sent()
    {
        Send(Bytes(5000));
        Assert.Equal(0, _reader.Fill(10));
        Assert.Equal(Bytes(5000), _reader.Buffered.ToArray());
    }

    [Fact]
    public void Consumed_bytes_make_room_for_a_fill_that_would_run_past_the_end()
    {
        Send(Bytes(8000));
        Assert.Equal(0, _reader.Fill(8000));
        _reader.Consume(7000);
        Send(Bytes(3000));
        Assert.Equal(0, _reader.Fill(4000)); // 1000 left plus 3000 new: moved to the front first

        Assert.Equal(Bytes(8000)[7000..].Concat(Bytes(3000)).ToArray(), _reader.Buffered.ToArray());
    }

    [Fact]
    public async Task Fill_waits_for_bytes_that_come_later()
    {
        Task sender = Task.Run(async () =>
        {
            await Task.Delay(50);
            Send(Bytes(100));
        });

        Assert.Equal(0, _reader.Fill(100));
        await sender;
    }

    [Fact]
    public void ReadExactly_takes_the_buffered_bytes_first_then_the_socket()
    {
        Send(Bytes(20000));
        Assert.Equal(0, _reader.Fill(100));
        byte[] destination = new byte[20000];

        Assert.Equal(0, _reader.ReadExactly(destination));
        Assert.Equal(Bytes(20000), destination);
        Assert.Equal(0, _reader.Buffered.Length);
    }

    [Fact]
    public void The_end_of_stream_is_clean_only_with_nothing_buffered()
    {
        Send(new byte[3]);
        StreamSocket.Shutdown(_theirs.Value);

        Assert.Equal(LibC.EPIPE, _reader.Fill(4));
        _reader.Consume(3);
        Assert.Equal(StreamSocket.EndOfStream, _reader.Fill(1));
        Assert.Equal(LibC.EPIPE, _reader.ReadExactly(new byte[1]));
    }

    private static byte[] Bytes(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 13)).ToArray();

    private void Send(byte[] bytes) => Assert.Equal(0, StreamSocket.SendAll(_theirs.Value, bytes, default));
}
