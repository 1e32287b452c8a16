using System.Text;
using Dmp.Faults;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// A fault rule (<c>dmp fault add</c>, a write to a device's <c>faults</c> file): refused with a message, never thrown;
/// a rule it takes reads back, from the way <c>dmp fault list</c> shows it, as the same rule.
/// </summary>
internal static class FaultRuleTarget
{
    private const long DeviceSize = 1 << 20;

    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (FaultRule.TryParse(text, DeviceSize, out _) is not { } rule)
        {
            return;
        }

        string shown = rule.ToString();
        FaultRule? again = FaultRule.TryParse(shown, DeviceSize, out string error);
        if (again?.ToString() != shown)
        {
            throw new FuzzFindingException($"'{text}' is shown as '{shown}', which reads back as {(again is null ? error : $"'{again}'")}");
        }
    }
}
