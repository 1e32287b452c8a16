using System.Globalization;

namespace Dmp.Cli;

/// <summary>Durations as people write them: a number with ns, us, ms, s, m or h, or a plain number of seconds.</summary>
internal static class DurationParser
{
    /// <returns>The duration, or null when <paramref name="text"/> is not one.</returns>
    public static TimeSpan? TryParse(string text)
    {
        (string number, double unitSeconds) = text switch
        {
            _ when text.EndsWith("ns", StringComparison.Ordinal) => (text[..^2], 1e-9),
            _ when text.EndsWith("us", StringComparison.Ordinal) => (text[..^2], 1e-6),
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1e-3),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) &&
            value * unitSeconds <= TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromTicks((long)Math.Round(value * unitSeconds * TimeSpan.TicksPerSecond))
            : null;
    }

    /// <summary>"50ms", "2s", "1.5s", "250us": whole units where they fit.</summary>
    public static string Format(TimeSpan duration) => duration.Ticks switch
    {
        0 => "0",
        long ticks when ticks % TimeSpan.TicksPerSecond == 0 => $"{ticks / TimeSpan.TicksPerSecond}s",
        long ticks when ticks % TimeSpan.TicksPerMillisecond == 0 => $"{ticks / TimeSpan.TicksPerMillisecond}ms",
        long ticks => string.Create(CultureInfo.InvariantCulture, $"{ticks / 10.0}us"),
    };
}
