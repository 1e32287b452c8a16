using Dmp.Nbd;
using Dmp.Stats;

namespace Dmp.Trace;

/// <summary>One answered request, as the trace keeps it until a reader turns it into a line (<see cref="TraceLine"/>).</summary>
internal struct TraceRecord
{
    /// <summary>When the reply was sent (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    public long CompletedAt;

    public long Offset;

    /// <summary>From reading the request's header to sending its reply.</summary>
    public long ServiceNanoseconds;

    public string Device;

    public uint Length;

    /// <summary>The reply's error: 0, or the errno it carries.</summary>
    public int Error;

    /// <summary>The device's connection that served it (the kernel's sockets first, then NBD clients as they come).</summary>
    public int Connection;

    /// <summary>The fault rule that acted on it, or 0.</summary>
    public int Rule;

    public IoOperation Operation;

    public NbdCommandFlags Flags;
}
