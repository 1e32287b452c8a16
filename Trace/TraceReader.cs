using Dmp.Sysfs;

namespace Dmp.Trace;

/// <summary>
/// One open <c>trace</c> file: the lines of its own subscription, as many as each read has room for, with a
/// <c># lost N lines</c> line wherever the reader fell behind. A line that does not fit a read whole is
/// finished by the next one.
/// </summary>
internal sealed class TraceReader : ISysfsStreamReader
{
    private readonly TraceHub _hub;
    private readonly TraceSubscription _subscription;
    private readonly byte[] _line = new byte[TraceLine.MaxLength];
    private int _pendingStart;
    private int _pendingEnd;

    /// <param name="device">The device to follow, or null for all.</param>
    public TraceReader(TraceHub hub, string? device)
    {
        _hub = hub;
        _subscription = hub.Subscribe(device);
    }

    public bool CanFill(int length) => _subscription.Count * TraceLine.MinLength >= length;

    public int Read(Span<byte> destination)
    {
        int written = TakePending(destination);
        if (_pendingStart == _pendingEnd && _subscription.TakeLost() is long lost and > 0)
        {
            (_pendingStart, _pendingEnd) = (0, TraceLine.FormatLost(lost, _line));
            written += TakePending(destination[written..]);
        }

        while (written < destination.Length && _pendingStart == _pendingEnd && _subscription.TryRead(out TraceRecord record))
        {
            (_pendingStart, _pendingEnd) = (0, TraceLine.Format(record, _line));
            written += TakePending(destination[written..]);
        }

        return written;
    }

    public void Dispose() => _hub.Unsubscribe(_subscription);

    /// <summary>Copies as much of the line in hand as fits.</summary>
    private int TakePending(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _pendingEnd - _pendingStart);
        _line.AsSpan(_pendingStart, count).CopyTo(destination);
        _pendingStart += count;
        if (_pendingStart == _pendingEnd)
        {
            _pendingStart = _pendingEnd = 0;
        }

        return count;
    }
}
