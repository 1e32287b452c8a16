using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dmp.Cli;
using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Faults;

/// <summary>
/// One fault rule: which requests it matches (an operation, a byte range, a flakey period), how often it
/// acts on them (after N, at most N, with a probability) and what it does. Written as one line of
/// <c>key=value</c> words (<see cref="TryParse"/>), which <see cref="ToString"/> gives back. Its counters
/// are shared by every connection of its device, and only touched while the device has rules.
/// </summary>
internal sealed partial class FaultRule
{
    private long _periodTicks;
    private long _upTicks;
    private long _matched;
    private long _fired;

    private FaultRule()
    {
    }

    /// <summary>The number <c>fault list</c> shows and <c>fault clear</c> takes; given when the rule joins its device's.</summary>
    public int Id { get; private set; }

    /// <summary>The operation matched, or null for any.</summary>
    public IoOperation? Operation { get; private set; }

    /// <summary>The byte range matched, [start, end); null for every request, a FLUSH included (it has no range).</summary>
    public long? RangeStart { get; private set; }

    public long? RangeEnd { get; private set; }

    public double Probability { get; private set; } = 1;

    /// <summary>Matching requests let through before the rule acts.</summary>
    public long After { get; private set; }

    /// <summary>Most times the rule acts, or null for no limit.</summary>
    public long? Count { get; private set; }

    /// <summary>A flakey period: the rule acts only in the <see cref="Down"/> part of each up-then-down cycle, timed from when it was added.</summary>
    public TimeSpan Up { get; private set; }

    public TimeSpan Down { get; private set; }

    public FaultAction Action { get; private set; }

    /// <summary>The errno of a <see cref="FaultAction.Fail"/>.</summary>
    public int Error { get; private set; }

    public TimeSpan ShortestDelay { get; private set; }

    public TimeSpan LongestDelay { get; private set; }

    /// <summary>When the rule was added (<see cref="Stopwatch"/> ticks), where its flakey periods start.</summary>
    public long AddedAt { get; private set; }

    /// <summary>How many times the rule has acted.</summary>
    public long Fired => Math.Min(Volatile.Read(ref _fired), Count ?? long.MaxValue);

    /// <summary>Makes the rule its device's rule number <paramref name="id"/>, its flakey period starting now.</summary>
    public void Join(int id)
    {
        Id = id;
        AddedAt = Stopwatch.GetTimestamp();
        _upTicks = TicksOf(Up);
        _periodTicks = Down > TimeSpan.Zero ? TicksOf(Up + Down) : 0;
    }

    /// <summary>Whether the rule acts on a request, counting it if it does.</summary>
    /// <param name="length">0 for a FLUSH, which no ranged rule matches.</param>
    /// <param name="now">The time (<see cref="Stopwatch"/> ticks), for the flakey period.</param>
    public bool TryFire(IoOperation operation, long offset, long length, long now)
    {
        if ((Operation is { } matched && matched != operation) ||
            (RangeStart is long start && (length == 0 || offset >= RangeEnd || offset + length <= start)) ||
            (_periodTicks > 0 && (now - AddedAt) % _periodTicks < _upTicks) ||
            Interlocked.Increment(ref _matched) <= After ||
            (Probability < 1 && Random.Shared.NextDouble() >= Probability))
        {
            return false;
        }

        // Past its count the rule lets requests through; Fired stays at the count.
        return Interlocked.Increment(ref _fired) <= (Count ?? long.MaxValue);
    }

    /// <summary>What the rule does to a request it fired on.</summary>
    public FaultDecision Decision() => Action switch
    {
        FaultAction.Fail => new FaultDecision(Action, Id, Error: Error),
        FaultAction.Delay => new FaultDecision(Action, Id, Delay: LongestDelay == ShortestDelay
            ? ShortestDelay
            : ShortestDelay + TimeSpan.FromTicks(Random.Shared.NextInt64((LongestDelay - ShortestDelay).Ticks + 1))),
        _ => new FaultDecision(Action, Id),
    };

    /// <summary>The rule in its canonical words, every key in one order: what <see cref="TryParse"/> reads back to the same rule.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("op=").Append(Operation is { } operation ? IoOperations.NameOf(operation) : AnyOperation);
        if (RangeStart is long start)
        {
            text.Append(CultureInfo.InvariantCulture, $" offset={start} length={RangeEnd - start}");
        }

        if (Probability < 1)
        {
            text.Append(CultureInfo.InvariantCulture, $" probability={Probability}");
        }

        if (After > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" after={After}");
        }

        if (Count is long count)
        {
            text.Append(CultureInfo.InvariantCulture, $" count={count}");
        }

        if (Down > TimeSpan.Zero)
        {
            text.Append(" up=").Append(DurationParser.Format(Up)).Append(" down=").Append(DurationParser.Format(Down));
        }

        text.Append(' ').Append(Action switch
        {
            FaultAction.Fail => $"error={Errno.NameOf(Error)}",
            FaultAction.Delay => ShortestDelay == LongestDelay
                ? $"delay={DurationParser.Format(ShortestDelay)}"
                : $"delay={DurationParser.Format(ShortestDelay)}-{DurationParser.Format(LongestDelay)}",
            FaultAction.Drop => "drop",
            _ => "corrupt",
        });
        return text.ToString();
    }

    /// <summary>A duration in <see cref="Stopwatch"/> ticks, at most <see cref="long.MaxValue"/> (some 292 years of nanoseconds):
    /// a cycle longer than that is one that never comes round.</summary>
    private static long TicksOf(TimeSpan duration) => (long)Math.Min(duration.TotalSeconds * Stopwatch.Frequency, long.MaxValue);
}
