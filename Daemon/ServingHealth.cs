using System.Diagnostics;
using Dmp.Stats;

namespace Dmp.Daemon;

/// <summary>
/// Whether the daemon serves, for the watchdog: healthy while every connection either has nothing in flight (idle,
/// waiting for requests) or has answered a request within <see cref="_limit"/>. A connection with requests in flight
/// that has answered none for longer is stuck (a backing that hangs, a thread that does not come back). Read from
/// the counters every connection keeps (<see cref="ModuleStatistics.Progress"/>): the request path pays nothing.
/// </summary>
internal sealed class ServingHealth
{
    private readonly ModuleStatistics _statistics;
    private readonly long _limit;

    /// <summary>Per connection: what it had answered when last seen, and since when it has answered nothing with requests in flight.</summary>
    private Dictionary<nint, (int Answered, long BusySince)> _seen = [];

    public ServingHealth(ModuleStatistics statistics, TimeSpan limit)
    {
        _statistics = statistics;
        _limit = (long)(limit.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Looks at every connection; called from one thread, at intervals shorter than the limit.</summary>
    /// <param name="stuck">The device of a connection that is stuck, when one is.</param>
    public bool Check(out string? stuck)
    {
        long now = Stopwatch.GetTimestamp();
        var seen = new Dictionary<nint, (int Answered, long BusySince)>();
        stuck = null;
        foreach (ConnectionProgress connection in _statistics.Progress())
        {
            (int Answered, long BusySince) before = default;
            bool moved = connection.InFlight == 0
                || !_seen.TryGetValue(connection.Connection, out before)
                || before.Answered != connection.Answered;
            long busySince = moved ? now : before.BusySince;
            seen[connection.Connection] = (connection.Answered, busySince);
            if (now - busySince > _limit)
            {
                stuck ??= connection.Device;
            }
        }

        _seen = seen;
        return stuck is null;
    }
}
