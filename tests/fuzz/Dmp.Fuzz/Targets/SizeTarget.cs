using System.Text;
using Dmp.Cli;

namespace Dmp.Fuzz.Targets;

/// <summary>Sizes (<c>--size</c>, offsets and lengths) and durations as the command line takes them: they answer with null, never throw.</summary>
internal static class SizeTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        _ = SizeParser.TryParse(text, out _);
        _ = SizeParser.TryParseBytes(text, out _);
        if (DurationParser.TryParse(text) is { } duration)
        {
            _ = DurationParser.Format(duration);
        }
    }
}
