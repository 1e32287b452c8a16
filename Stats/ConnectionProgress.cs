namespace Dmp.Stats;

/// <summary>Where one connection's serving stands, as its counters show it, for the watchdog.</summary>
/// <param name="Connection">Tells the connection apart from the others (its counters' slot).</param>
/// <param name="Device">The device it serves.</param>
/// <param name="Answered">Moves whenever it answers a request (its counters' sequence).</param>
/// <param name="InFlight">Requests it has begun and not yet answered.</param>
internal readonly record struct ConnectionProgress(nint Connection, string Device, int Answered, long InFlight);
