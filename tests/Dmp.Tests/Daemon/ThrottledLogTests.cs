using System.Collections.Concurrent;
using Dmp.Daemon;

namespace Dmp.Tests.Daemon;

/// <summary>The log for what clients can make happen at will: a burst of each kind a minute passes, the rest is counted and told.</summary>
public sealed class ThrottledLogTests
{
    private const string Stalled = "nbd client: handshake: not finished within 10 s";
    private const string LeftOut = "more lines like these were left out (at most 20 of each kind a minute are logged)";

    private readonly ManualClock _clock = new();
    private readonly List<string> _lines = [];
    private readonly ThrottledLog _log;

    public ThrottledLogTests() => _log = new ThrottledLog(_lines.Add, _clock);

    [Fact]
    public void The_first_lines_of_a_kind_in_a_minute_pass_unchanged_and_the_last_that_passes_says_the_rest_are_counted()
    {
        Write(Stalled, ThrottledLog.Burst);

        Assert.Equal(ThrottledLog.Burst, _lines.Count);
        Assert.All(_lines[..^1], line => Assert.Equal(Stalled, line));
        Assert.Equal($"{Stalled} (the {ThrottledLog.Burst}th such line this minute: the next ones are counted, not logged)", _lines[^1]);
    }

    [Fact]
    public void Lines_past_the_burst_are_left_out_and_counted_in_a_line_before_the_next_minutes_first()
    {
        Write(Stalled, ThrottledLog.Burst + 7);
        Assert.Equal(ThrottledLog.Burst, _lines.Count);

        _clock.Advance(ThrottledLog.Window);
        _log.Write("later");

        Assert.Equal([$"7 {LeftOut}", "later"], _lines[ThrottledLog.Burst..]);
    }

    [Fact]
    public void A_flood_of_one_kind_does_not_keep_another_kind_out()
    {
        Write(Stalled, 100);
        _log.Write("nbd client: handshake: dropped for a newer client: 64 were in the handshake");

        Assert.Equal(ThrottledLog.Burst + 1, _lines.Count);
        Assert.Equal("nbd client: handshake: dropped for a newer client: 64 were in the handshake", _lines[^1]);
    }

    [Fact]
    public void Kinds_past_the_most_a_minute_takes_are_counted_while_the_kinds_already_seen_pass()
    {
        for (int i = 0; i < ThrottledLog.MaxKinds + 5; i++)
        {
            _log.Write($"nbd client: handshake: unknown export 'export{i}'");
        }

        _log.Write("nbd client: handshake: unknown export 'export0'");
        Assert.Equal(ThrottledLog.MaxKinds + 1, _lines.Count);

        _clock.Advance(ThrottledLog.Window);
        _log.Write("nbd client: handshake: unknown export 'export40'");
        Assert.Equal([$"5 {LeftOut}", "nbd client: handshake: unknown export 'export40'"], _lines[^2..]);
    }

    [Fact]
    public void A_new_minute_lets_a_whole_burst_through_again()
    {
        Write(Stalled, ThrottledLog.Burst);
        _clock.Advance(ThrottledLog.Window - TimeSpan.FromMilliseconds(1));
        _log.Write(Stalled);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Write(Stalled, ThrottledLog.Burst);

        Assert.Equal(2 * ThrottledLog.Burst + 1, _lines.Count); // both bursts, and the line that counted the one left out
        Assert.Equal($"1 {LeftOut}", _lines[ThrottledLog.Burst]);
    }

    [Fact]
    public void A_quiet_log_says_nothing_of_lines_left_out()
    {
        Write(Stalled, 3);
        _clock.Advance(TimeSpan.FromHours(1));
        _log.Write("after an hour");

        Assert.Equal([Stalled, Stalled, Stalled, "after an hour"], _lines);
    }

    [Fact]
    public void Threads_writing_at_once_get_exactly_the_burst_through()
    {
        var lines = new ConcurrentQueue<string>();
        var log = new ThrottledLog(lines.Enqueue, _clock);

        Parallel.For(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => log.Write(Stalled));

        Assert.Equal(ThrottledLog.Burst, lines.Count);
        Assert.Single(lines, line => line.EndsWith("the next ones are counted, not logged)", StringComparison.Ordinal));
    }

    private void Write(string message, int times)
    {
        for (int i = 0; i < times; i++)
        {
            _log.Write(message);
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
