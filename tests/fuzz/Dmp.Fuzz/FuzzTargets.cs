using Dmp.Fuzz.Targets;

namespace Dmp.Fuzz;

/// <summary>Every target, by the name <c>make fuzz</c> and the corpus folders (tests/fuzz/corpus/NAME) use.</summary>
internal static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, FuzzTarget> All = new Dictionary<string, FuzzTarget>
    {
        ["nbd-handshake"] = NbdHandshakeTarget.Run,
        ["nbd-transmission"] = NbdTransmissionTarget.Run,
        ["fuse"] = FuseTarget.Run,
        ["control"] = ControlTarget.Run,
        ["dm-table"] = DmTableTarget.Run,
        ["size"] = SizeTarget.Run,
        ["netlink"] = NetlinkTarget.Run,
        ["dmptab"] = DmpTabTarget.Run,
        ["fault-rule"] = FaultRuleTarget.Run,
        ["http"] = HttpTarget.Run,
    };
}
