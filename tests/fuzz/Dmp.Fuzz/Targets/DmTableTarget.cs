using System.Text;
using Dmp.Cli;

namespace Dmp.Fuzz.Targets;

/// <summary>The dm table of <c>dmp create</c> ("START LENGTH dmp DEVICE"): a <see cref="CommandException"/> is its one way to refuse.</summary>
internal static class DmTableTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = DmpTable.Parse(Encoding.UTF8.GetString(input));
        }
        catch (CommandException)
        {
        }
    }
}
