namespace Dmp.Daemon;

/// <summary>The daemon's log: timestamped lines on stderr, which the daemon points at RUNDIR/dmp.log.</summary>
internal static class DaemonLog
{
    public static void Write(string message) =>
        Console.Error.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} dmp[{Environment.ProcessId}]: {message}");
}
