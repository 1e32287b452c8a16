using Dmp.Http;

namespace Dmp.Fuzz.Targets;

/// <summary>What a metrics client sends, as the HTTP server judges it: the unfinished head, where it ends, then the whole head.</summary>
internal static class HttpTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        _ = HttpRequestParser.CheckUnfinished(input);
        int end = HttpRequestParser.EndOfHead(input);
        if (end >= 0)
        {
            _ = HttpRequestParser.Parse(input[..end]);
        }
    }
}
