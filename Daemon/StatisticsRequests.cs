using Dmp.Stats;

namespace Dmp.Daemon;

/// <summary>
/// <c>dmp stat --clear</c>, answered by the daemon (and by <c>dmp serve</c>): print and reset in one step,
/// like dm-stats' <c>@stats_print_clear</c>, so no request is counted in neither report or in both.
/// </summary>
internal static class StatisticsRequests
{
    public const string Clear = "stat-clear";
    public const string Json = "json";
    public const string Text = "text";

    /// <summary>The request fields: the device ("" for all of dmp) and the format.</summary>
    public static string[] ClearRequest(string? device, bool json) => [Clear, device ?? "", json ? Json : Text];

    /// <summary>Clears <paramref name="device"/>'s counters (or all, for ""), and renders what they held.</summary>
    /// <param name="clear">Zeroes the counters of one device (by name) or of all (null) and returns what they held; null when there is no such device.</param>
    public static ControlReply Handle(string device, string format, Func<string?, IoCounters?> clear)
    {
        string? name = device.Length == 0 ? null : device;
        if (clear(name) is not { } counters)
        {
            return ControlReply.Failure($"{device} is not a device dmp serves");
        }

        string text = format == Json ? StatisticsJson.Format(name, counters) : VolumesReport.Format(counters);
        return ControlReply.Success(text.TrimEnd('\n').Split('\n'));
    }
}
