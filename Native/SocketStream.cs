using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// A blocking <see cref="Stream"/> over a connected socket it does not own, for what needs a stream beneath it
/// (TLS): errors become <see cref="IOException"/>, as streams report them. A receive timeout that fires while one
/// is set ends the stream; one that was lifted while a receive waited does not.
/// </summary>
internal sealed class SocketStream(int socket) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            int received = StreamSocket.Receive(socket, buffer, wait: true);
            if (received >= 0)
            {
                return received;
            }

            if (-received != LibC.EAGAIN || SocketListener.HasReceiveTimeout(socket))
            {
                throw new IOException($"receive failed: {Errno.Describe(-received)}");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int status = StreamSocket.SendAll(socket, buffer, default);
        if (status != 0)
        {
            throw new IOException($"send failed: {Errno.Describe(status)}");
        }
    }

    // SslStream's synchronous calls use the synchronous members above; these keep its asynchronous ones (the
    // shutdown alert) from queueing to the thread pool for a blocking call that may as well run here.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
