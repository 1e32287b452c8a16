using System.Globalization;

namespace Dmp.Cli;

/// <summary>Sizes as storage tools write them: bytes, or a number with K, M, G, T, P (powers of 1024).</summary>
internal static class SizeParser
{
    public const int Granularity = 512;

    private const string Suffixes = "KMGTP";

    /// <summary>A device's size: positive, in whole sectors.</summary>
    /// <returns>The size in bytes, or null with <paramref name="error"/> saying what is wrong.</returns>
    public static long? TryParse(string text, out string error)
    {
        long? bytes = TryParseBytes(text, out error);
        if (bytes is null)
        {
            return null;
        }

        if (bytes == 0)
        {
            error = $"invalid size '{text}': expected a positive number of bytes, optionally with K, M, G, T or P";
            return null;
        }

        if (bytes % Granularity != 0)
        {
            error = $"invalid size '{text}': must be a multiple of {Granularity} bytes";
            return null;
        }

        return bytes;
    }

    /// <summary>Any number of bytes, zero included: an offset or a length.</summary>
    /// <returns>The number of bytes, or null with <paramref name="error"/> saying what is wrong.</returns>
    public static long? TryParseBytes(string text, out string error)
    {
        string trimmed = text.Trim();
        foreach (string unit in new[] { "iB", "B" })
        {
            if (trimmed.EndsWith(unit, StringComparison.OrdinalIgnoreCase) && trimmed.Length > unit.Length)
            {
                trimmed = trimmed[..^unit.Length];
                break;
            }
        }

        int shift = 0;
        if (trimmed.Length > 0 && Suffixes.IndexOf(char.ToUpperInvariant(trimmed[^1])) is int index and >= 0)
        {
            shift = 10 * (index + 1);
            trimmed = trimmed[..^1];
        }

        if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            error = $"invalid size '{text}': expected a positive number of bytes, optionally with K, M, G, T or P";
            return null;
        }

        if (number > long.MaxValue >> shift)
        {
            error = $"invalid size '{text}': too large";
            return null;
        }

        error = "";
        return number << shift;
    }
}
