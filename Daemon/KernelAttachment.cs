using Dmp.Native.Nbd;
using Dmp.Trace;

namespace Dmp.Daemon;

/// <summary>What every device the daemon serves to the kernel shares: the netlink socket, the mark that makes a device
/// ours, how long the kernel waits for a new daemon when this one dies, where what outlives the daemon is kept, the
/// trace, and where problems are told.</summary>
/// <param name="BackendIdentifier">Marks a device as ours in /sys/block/nbdN/backend; RECONFIGURE needs it again.</param>
/// <param name="ReattachTimeout">How long requests wait for a daemon to take a device over before they fail.</param>
/// <param name="Run">Where each device's fault rules are kept for the next daemon.</param>
internal sealed record KernelAttachment(
    NbdNetlinkClient Netlink, string BackendIdentifier, TimeSpan ReattachTimeout, RunDirectory Run, TraceHub Trace, Action<string> Log);
