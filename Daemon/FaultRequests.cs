using System.Globalization;
using Dmp.Faults;
using Dmp.Stats;

namespace Dmp.Daemon;

/// <summary>
/// <c>dmp fault add|list|clear</c>, answered by the daemon (and by <c>dmp serve</c>): a device's fault rules,
/// changed the way its <c>faults</c> file changes them. A device is named as the user knows it; the host says
/// which names it answers to.
/// </summary>
internal static class FaultRequests
{
    public const string Add = "fault-add";
    public const string List = "fault-list";
    public const string Clear = "fault-clear";

    private static readonly string[] Columns = ["DEVICE", "ID", "FIRED", "RULE"];

    /// <summary>A device's name and its rules, for the host to look up.</summary>
    public delegate (string Name, DeviceFaults Faults)? FindDevice(string name);

    public static bool Handles(string[] request) => request is [Add or List or Clear, ..];

    /// <param name="find">The device the user named, or null when the host serves none by that name.</param>
    /// <param name="all">Every device, in order, for a list of all rules.</param>
    public static ControlReply Handle(string[] request, FindDevice find, Func<IEnumerable<(string Name, DeviceFaults Faults)>> all)
    {
        return request switch
        {
            [Add, string device, string rule] => Change(device, faults =>
                faults.TryAdd(rule, out string error) is { } added ? ControlReply.Success($"{device}: rule {added.Id}: {added}") : ControlReply.Failure(error)),
            [List, ""] => Listing(all()),
            [List, string device] => Change(device, faults => Listing([(find(device)!.Value.Name, faults)])),
            [Clear, string device, ""] => Change(device, faults => Cleared(faults.Clear(null), device, null)),
            [Clear, string device, string id] when int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int number) =>
                Change(device, faults => Cleared(faults.Clear(number), device, number)),
            [Clear, _, string id] => ControlReply.Failure($"'{id}' is not a rule id"),
            _ => ControlReply.Failure($"unknown request '{string.Join(' ', request)}'"),
        };

        ControlReply Change(string device, Func<DeviceFaults, ControlReply> change) =>
            find(device) is { } found ? change(found.Faults) : ControlReply.Failure($"{device} is not a device dmp serves");
    }

    private static ControlReply Cleared(bool cleared, string device, int? id) =>
        cleared ? ControlReply.Success() : ControlReply.Failure($"{device} has no rule {id}");

    /// <summary>Every rule of the devices, a row each under a header: the device, the rule's id, how often it fired, the rule.</summary>
    private static ControlReply Listing(IEnumerable<(string Name, DeviceFaults Faults)> devices)
    {
        var rows = new List<string[]> { Columns };
        foreach ((string name, DeviceFaults faults) in devices)
        {
            rows.AddRange(faults.Rules.Select(rule => new[]
            {
                name, rule.Id.ToString(CultureInfo.InvariantCulture), rule.Fired.ToString(CultureInfo.InvariantCulture), rule.ToString(),
            }));
        }

        return ControlReply.Success(Table.Format(rows, textLast: true).TrimEnd('\n').Split('\n'));
    }
}
