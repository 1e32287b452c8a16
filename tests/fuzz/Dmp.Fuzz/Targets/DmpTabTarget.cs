using System.Text;
using Dmp.Config;
using Dmp.Storage;

namespace Dmp.Fuzz.Targets;

/// <summary>The dmptab file: a <see cref="FormatException"/> naming the line is its one way to refuse.</summary>
internal static class DmpTabTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = DmpTab.Parse("/etc/dmp/dmptab", Encoding.UTF8.GetString(input), CacheMode.None, defaultConnections: 1);
        }
        catch (FormatException)
        {
        }
    }
}
