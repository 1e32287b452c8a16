namespace Dmp.Native;

/// <summary>
/// Batched sending to a stream socket: replies gather in a native buffer and go out in one send when
/// the batch is flushed or full. The first failure sticks: later sends are dropped, and every call
/// that sends reports it, so the request path never throws. Replies that did not go out are counted
/// (<see cref="Lost"/>).
/// </summary>
internal sealed class SocketWriter : IDisposable
{
    private readonly int _socket;
    private readonly NativeBuffer _buffer;
    private int _length;
    private int _error;
    private int _batched;

    public SocketWriter(int socket, int capacity)
    {
        _socket = socket;
        _buffer = new NativeBuffer(capacity);
    }

    public int Capacity => _buffer.Capacity;

    /// <summary>0, or the errno of the send that failed.</summary>
    public int Error => _error;

    /// <summary>Replies not sent: those of a batch whose send failed, and every one after.</summary>
    public long Lost { get; private set; }

    /// <summary>Room for <paramref name="length"/> bytes (at most <see cref="Capacity"/>) at the end of the
    /// batch, sending the batch first if they would not fit. <see cref="Advance"/> keeps what was written.</summary>
    public Span<byte> GetSpan(int length)
    {
        if (Capacity - _length < length)
        {
            Flush();
        }

        return _buffer.Span.Slice(_length, length);
    }

    /// <summary>Keeps the <paramref name="count"/> bytes written: one reply.</summary>
    public void Advance(int count)
    {
        _length += count;
        _batched++;
    }

    /// <summary>Sends the batch.</summary>
    /// <returns>0 or errno (<see cref="Error"/>).</returns>
    public int Flush() => Send(default);

    /// <summary>Sends the batch and then <paramref name="payload"/>, in one gathered write.</summary>
    /// <returns>0 or errno (<see cref="Error"/>).</returns>
    public int Send(ReadOnlySpan<byte> payload)
    {
        if (_error == 0 && (_length > 0 || !payload.IsEmpty))
        {
            _error = StreamSocket.SendAll(_socket, _buffer.Slice(_length), payload);
        }

        if (_error != 0)
        {
            Lost += _batched;
        }

        _length = 0;
        _batched = 0;
        return _error;
    }

    public void Dispose() => _buffer.Dispose();
}
