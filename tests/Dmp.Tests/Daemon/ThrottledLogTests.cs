using System.Collections.Concurrent;
using Dmp.Daemon;

namespace Dmp.Tests.Daemon;

/// <summary>The log for what clients can make happen at will: a burst a minute passes, the rest is counted and told.</summary>
public sealed class ThrottledLogTests
{
    private readonly ManualClock _clock = new();
    private readonly List<string> _lines = [];
    private readonly ThrottledLog _log;

    public ThrottledLogTests() => _log = new ThrottledLog(_lines.Add, _clock);

    [Fact]
    public void The_first_lines_of_a_minute_pass_unchanged_and_the_last_that_passes_says_the_rest_are_counted()
    {
        WriteNumbered(ThrottledLog.Burst);

        Assert.Equal(ThrottledLog.Burst, _lines.Count);
        Assert.Equal([.. Enumerable.Range(1, ThrottledLog.Burst - 1).Select(i => $"client {i}")], _lines[..^1]);
        Assert.Equal($"client {ThrottledLog.Burst} (the {ThrottledLog.Burst}th such line this minute: the next ones are counted, not logged)", _lines[^1]);
    }

    [Fact]
    public void Lines_past_the_burst_are_left_out_and_counted_in_a_line_before_the_next_minutes_first()
    {
        WriteNumbered(ThrottledLog.Burst + 7);
        Assert.Equal(ThrottledLog.Burst, _lines.Count);

        _clock.Advance(ThrottledLog.Window);
        _log.Write("later");

        Assert.Equal(["7 more lines like these were left out (at most 20 a minute are logged)", "later"], _lines[ThrottledLog.Burst..]);
    }

    [Fact]
    public void A_new_minute_lets_a_whole_burst_through_again()
    {
        WriteNumbered(ThrottledLog.Burst);
        _clock.Advance(ThrottledLog.Window - TimeSpan.FromMilliseconds(1));
        _log.Write("still this minute");
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        WriteNumbered(ThrottledLog.Burst);

        Assert.Equal(2 * ThrottledLog.Burst + 1, _lines.Count); // both bursts, and the line that counted the one left out
        Assert.Equal("1 more lines like these were left out (at most 20 a minute are logged)", _lines[ThrottledLog.Burst]);
        Assert.DoesNotContain("still this minute", _lines);
    }

    [Fact]
    public void A_quiet_log_says_nothing_of_lines_left_out()
    {
        WriteNumbered(3);
        _clock.Advance(TimeSpan.FromHours(1));
        _log.Write("after an hour");

        Assert.Equal(["client 1", "client 2", "client 3", "after an hour"], _lines);
    }

    [Fact]
    public void Threads_writing_at_once_get_exactly_the_burst_through()
    {
        var lines = new ConcurrentQueue<string>();
        var log = new ThrottledLog(lines.Enqueue, _clock);

        Parallel.For(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => log.Write($"client {i}"));

        Assert.Equal(ThrottledLog.Burst, lines.Count);
        Assert.Single(lines, line => line.EndsWith("the next ones are counted, not logged)", StringComparison.Ordinal));
    }

    private void WriteNumbered(int count)
    {
        for (int i = 1; i <= count; i++)
        {
            _log.Write($"client {i}");
        }
    }

    /// <summary>A clock that moves only when told, in milliseconds.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _milliseconds;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => _milliseconds;

        public void Advance(TimeSpan by) => _milliseconds += (long)by.TotalMilliseconds;
    }
}
