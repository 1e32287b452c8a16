using System.Diagnostics;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// Buffered receiving from a stream socket, so that one recv picks up every request a client has
/// queued rather than one header per call. The buffer is native memory: it never moves, and small
/// write payloads are used where they lie, without another copy.
/// </summary>
internal sealed class SocketReader : IDisposable
{
    private readonly int _socket;
    private readonly NativeBuffer _buffer;
    private readonly long _pollTicks;
    private int _start;
    private int _end;

    /// <param name="poll">How long <see cref="Fill"/> polls an empty socket before it sleeps in recv: a
    /// thread woken from sleep answers a lone request several microseconds later than one still running.</param>
    public SocketReader(int socket, int capacity, TimeSpan poll)
    {
        _socket = socket;
        _buffer = new NativeBuffer(capacity);
        _pollTicks = (long)(poll.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>What <see cref="Fill(int, int)"/> returns when its wake descriptor became readable before the bytes came.</summary>
    public const int Woken = -2;

    public int Capacity => _buffer.Capacity;

    /// <summary>What has been received and not yet consumed.</summary>
    public Span<byte> Buffered => _buffer.Span[_start.._end];

    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Receives until <paramref name="count"/> bytes (at most <see cref="Capacity"/>) are buffered, without waiting.</summary>
    /// <returns>0 once they are; EAGAIN when the peer has not sent them yet; otherwise as <see cref="Fill"/>.</returns>
    public int TryFill(int count) => Fill(count, wait: false);

    /// <summary>Receives until <paramref name="count"/> bytes (at most <see cref="Capacity"/>) are buffered.</summary>
    /// <returns>0 once they are; <see cref="StreamSocket.EndOfStream"/> if the peer closed with nothing buffered;
    /// EPIPE if it closed part-way; otherwise errno.</returns>
    public int Fill(int count) => Fill(count, wait: true);

    /// <summary>As <see cref="Fill(int)"/>, but a sleep waits on <paramref name="wake"/> too: another thread may want this one.</summary>
    /// <returns>As <see cref="Fill(int)"/>, or <see cref="Woken"/> once <paramref name="wake"/> is readable (the caller reads it).</returns>
    public int Fill(int count, int wake) => Fill(count, wait: true, wake);

    /// <summary>Bytes received for this socket before it came here (another daemon read them), taken as if just received.</summary>
    public void Prefill(ReadOnlySpan<byte> received)
    {
        received.CopyTo(_buffer.Span[_end..]);
        _end += received.Length;
    }

    /// <summary>Fills <paramref name="destination"/>: first from what is buffered, the rest straight from the socket.</summary>
    /// <returns>0, or as <see cref="StreamSocket.ReceiveExactly"/> (EPIPE when the stream ends part-way).</returns>
    public int ReadExactly(Span<byte> destination)
    {
        int buffered = Math.Min(destination.Length, _end - _start);
        Buffered[..buffered].CopyTo(destination);
        Consume(buffered);
        if (buffered == destination.Length)
        {
            return 0;
        }

        int status = StreamSocket.ReceiveExactly(_socket, destination[buffered..]);
        return status == StreamSocket.EndOfStream ? LibC.EPIPE : status;
    }

    public void Dispose() => _buffer.Dispose();

    private int Fill(int count, bool wait, int wake = -1)
    {
        Debug.Assert(count <= Capacity);
        if (_buffer.Capacity - _start < count)
        {
            Buffered.CopyTo(_buffer.Span);
            (_start, _end) = (0, _end - _start);
        }

        long pollUntil = 0;
        while (_end - _start < count)
        {
            int received = StreamSocket.Receive(_socket, _buffer.Span[_end..], wait: false);
            if (received == -LibC.EAGAIN && wait)
            {
                long now = Stopwatch.GetTimestamp();
                pollUntil = pollUntil == 0 ? now + _pollTicks : pollUntil;
                if (now < pollUntil)
                {
                    continue;
                }

                if (wake >= 0)
                {
                    if (Poll.WaitEitherReadable(_socket, wake))
                    {
                        return Woken;
                    }

                    continue;
                }

                received = StreamSocket.Receive(_socket, _buffer.Span[_end..], wait: true);
            }

            if (received > 0)
            {
                _end += received;
                pollUntil = 0;
            }
            else if (received == 0)
            {
                return _end == _start ? StreamSocket.EndOfStream : LibC.EPIPE;
            }
            else
            {
                return -received;
            }
        }

        return 0;
    }
}
