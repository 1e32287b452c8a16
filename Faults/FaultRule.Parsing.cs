using System.Globalization;
using Dmp.Cli;
using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Faults;

internal sealed partial class FaultRule
{
    /// <summary>Longest delay a rule may ask for: much longer looks like a dead device to the kernel (and holds up detaching it).</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(60);

    private const string AnyOperation = "any";

    private const string Keys = "op, offset, length, probability, after, count, up, down, error, delay, drop, corrupt";

    /// <summary>
    /// Reads a rule: <c>key=value</c> words that match (op, offset, length, probability, after, count, up and
    /// down) and exactly one action (<c>error=ERRNO</c>, <c>delay=D</c> or <c>delay=D1-D2</c>, <c>drop</c>,
    /// <c>corrupt</c>). Offsets and lengths are bytes, with K, M, G, T, P (powers of 1024) or s (sectors of 512 bytes).
    /// </summary>
    /// <param name="deviceSize">The device's size in bytes, which a range must lie within.</param>
    /// <returns>The rule, or null with <paramref name="error"/> saying in one line what is wrong.</returns>
    public static FaultRule? TryParse(string text, long deviceSize, out string error)
    {
        var rule = new FaultRule();
        var seen = new HashSet<string>();
        bool explicitOperation = false;
        long? offset = null;
        long? length = null;
        foreach (string word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = word.Split('=', 2);
            string key = parts[0];
            string? value = parts.Length == 2 ? parts[1] : null;
            if (!seen.Add(key))
            {
                error = $"'{key}' is given twice";
                return null;
            }

            error = (key, value) switch
            {
                ("drop", null) => rule.SetAction(FaultAction.Drop),
                ("corrupt", null) => rule.SetAction(FaultAction.Corrupt),
                ("drop" or "corrupt", _) => $"'{key}' takes no value",
                (_, null) => $"'{word}' is not a key=value word (keys: {Keys})",
                ("op", _) => rule.ParseOperation(value, out explicitOperation),
                ("offset", _) => ParseBytes(key, value, out offset),
                ("length", _) => ParseBytes(key, value, out length),
                ("probability", _) => rule.ParseProbability(value),
                ("after", _) => ParseCount(key, value, minimum: 0, out long after) ?? Set(() => rule.After = after),
                ("count", _) => ParseCount(key, value, minimum: 1, out long count) ?? Set(() => rule.Count = count),
                ("up" or "down", _) => rule.ParsePeriod(key, value),
                ("error", _) => rule.ParseError(value),
                ("delay", _) => rule.ParseDelay(value),
                _ => $"unknown key '{key}' (keys: {Keys})",
            } ?? "";
            if (error.Length > 0)
            {
                return null;
            }
        }

        error = rule.Complete(explicitOperation, offset, length, deviceSize) ?? "";
        return error.Length > 0 ? null : rule;
    }

    /// <returns>Null, or what is wrong.</returns>
    private static string? ParseDuration(string key, string text, out TimeSpan duration)
    {
        TimeSpan? parsed = DurationParser.TryParse(text);
        duration = parsed ?? default;
        return parsed is null ? $"{key}={text} is not a duration (a number with ns, us, ms, s, m or h)" : null;
    }

    private static string? Set(Action assign)
    {
        assign();
        return null;
    }

    private string? SetAction(FaultAction action)
    {
        if (Action != FaultAction.None)
        {
            return "a rule takes exactly one action: error=, delay=, drop or corrupt";
        }

        Action = action;
        return null;
    }

    private string? ParseOperation(string name, out bool explicitOperation)
    {
        explicitOperation = true;
        if (name == AnyOperation)
        {
            return null;
        }

        foreach (IoOperation operation in IoOperations.All)
        {
            if (IoOperations.NameOf(operation) == name)
            {
                Operation = operation;
                return null;
            }
        }

        return $"unknown operation '{name}': expected read, write, flush, discard, write_zeroes, cache or any";
    }

    private static string? ParseBytes(string key, string text, out long? bytes)
    {
        const long sector = 512;
        bool sectors = text.EndsWith('s');
        bytes = SizeParser.TryParseBytes(sectors ? text[..^1] : text, out string error);
        if (bytes is null || (sectors && bytes > long.MaxValue / sector))
        {
            bytes = null;
            return $"{key}={text} is not a number of bytes (with K, M, G, T or P) or of sectors (with s)";
        }

        bytes *= sectors ? sector : 1;
        return null;
    }

    private string? ParseProbability(string text)
    {
        bool percent = text.EndsWith('%');
        if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) ||
            (percent ? value / 100 : value) is not (>= 0 and <= 1))
        {
            return $"probability={text} is not a probability from 0 to 1 (or 0% to 100%)";
        }

        Probability = percent ? value / 100 : value;
        return null;
    }

    private static string? ParseCount(string key, string text, long minimum, out long count) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= minimum
            ? null
            : $"{key}={text} is not a whole number of {minimum} or more";

    private string? ParsePeriod(string key, string text)
    {
        if (ParseDuration(key, text, out TimeSpan duration) is { } error)
        {
            return error;
        }

        if (duration <= TimeSpan.Zero)
        {
            return $"{key}={text} must be longer than 0";
        }

        if (key == "up")
        {
            Up = duration;
        }
        else
        {
            Down = duration;
        }

        return null;
    }

    private string? ParseError(string name)
    {
        if (!Errno.TryParse(name, out int errno))
        {
            return $"error={name} is not an errno name (EIO, ENOSPC, EPERM, ...)";
        }

        Error = errno;
        return SetAction(FaultAction.Fail);
    }

    private string? ParseDelay(string text)
    {
        string[] bounds = text.Split('-', 2);
        if (ParseDuration("delay", bounds[0], out TimeSpan shortest) is { } error ||
            (error = ParseDuration("delay", bounds[^1], out TimeSpan longest)) is not null)
        {
            return error;
        }

        if (longest < shortest || longest > MaxDelay)
        {
            return $"delay={text} must run from shorter to longer and last at most {DurationParser.Format(MaxDelay)}";
        }

        (ShortestDelay, LongestDelay) = (shortest, longest);
        return SetAction(FaultAction.Delay);
    }

    /// <summary>Checks the rule as a whole and settles what was left out.</summary>
    private string? Complete(bool explicitOperation, long? offset, long? length, long deviceSize)
    {
        if (Action == FaultAction.None)
        {
            return "a rule needs an action: error=ERRNO, delay=DURATION, drop or corrupt";
        }

        // drop acts on writes and corrupt on reads: left out, op is theirs; given, it must be.
        IoOperation[] allowed = Action switch
        {
            FaultAction.Drop => [IoOperation.Write, IoOperation.WriteZeroes, IoOperation.Discard],
            FaultAction.Corrupt => [IoOperation.Read],
            _ => [],
        };
        if (allowed.Length > 0)
        {
            if (!explicitOperation)
            {
                Operation = allowed[0];
            }
            else if (Operation is not { } operation || !allowed.Contains(operation))
            {
                return Action == FaultAction.Drop
                    ? "drop acts on writes only: op=write, write_zeroes or discard"
                    : "corrupt acts on reads only: op=read";
            }
        }

        if ((Up > TimeSpan.Zero) != (Down > TimeSpan.Zero))
        {
            return "a flakey period needs both up= and down=";
        }

        if (offset is null && length is null)
        {
            return null;
        }

        long start = offset ?? 0;
        if (start >= deviceSize)
        {
            return $"offset={start} lies past the end of the device ({deviceSize} bytes)";
        }

        long count = length ?? deviceSize - start;
        if (count <= 0 || count > deviceSize - start)
        {
            return $"offset={start} length={count} is not a range within the device ({deviceSize} bytes)";
        }

        (RangeStart, RangeEnd) = (start, start + count);
        return null;
    }
}
