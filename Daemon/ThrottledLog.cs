namespace Dmp.Daemon;

/// <summary>
/// A log for what outsiders can make happen as often as they like (NBD clients that fail or stall their handshake,
/// bad HTTP requests), so that a flood of clients cannot fill the disk or the journal. In each <see cref="Window"/>,
/// each kind of line (the same text) passes <see cref="Burst"/> times, so a flood of one kind does not hide another;
/// the last that passes says that more are being counted. At most <see cref="MaxKinds"/> kinds pass in a window (the
/// text may hold what a client chose). The first line of the next window is preceded by how many were left out.
/// Lines may come from many threads at once.
/// </summary>
internal sealed class ThrottledLog(Action<string> log, TimeProvider time)
{
    /// <summary>Lines of one kind that pass in a window: enough to see what a few misbehaving clients did.</summary>
    public const int Burst = 20;

    /// <summary>Kinds of line that pass in a window.</summary>
    public const int MaxKinds = 32;

    /// <summary>The window starts with its first line, so a window begins whenever lines come again after a quiet spell.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _passed = new(StringComparer.Ordinal);
    private long _windowStart;
    private long _leftOut;

    public ThrottledLog(Action<string> log)
        : this(log, TimeProvider.System)
    {
    }

    public void Write(string message)
    {
        string? leftOut = null;
        string? line = null;
        lock (_lock)
        {
            long now = time.GetTimestamp();
            if (_passed.Count == 0 || time.GetElapsedTime(_windowStart, now) >= Window)
            {
                leftOut = _leftOut > 0 ? $"{_leftOut} more lines like these were left out (at most {Burst} of each kind a minute are logged)" : null;
                (_windowStart, _leftOut) = (now, 0);
                _passed.Clear();
            }

            _passed.TryGetValue(message, out int passed);
            if (passed < Burst && (passed > 0 || _passed.Count < MaxKinds))
            {
                _passed[message] = ++passed;
                line = passed < Burst ? message : $"{message} (the {Burst}th such line this minute: the next ones are counted, not logged)";
            }
            else
            {
                _leftOut++;
            }
        }

        // Written outside the lock: a slow stderr holds up only the thread that writes.
        if (leftOut is not null)
        {
            log(leftOut);
        }

        if (line is not null)
        {
            log(line);
        }
    }
}
