using System.Globalization;
using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>
/// Tells systemd how the daemon is doing, when it runs under a unit of <c>Type=notify</c> (<c>NOTIFY_SOCKET</c> is set;
/// otherwise every call does nothing): <c>READY=1</c> with the daemon's pid as the service's main pid once it serves,
/// <c>STATUS=</c> as devices come and go, <c>RELOADING=1</c>, <c>STOPPING=1</c>, and <c>WATCHDOG=1</c> while it is
/// healthy when the unit has <c>WatchdogSec=</c>.
/// </summary>
internal sealed class ServiceNotifier : IDisposable
{
    private readonly string? _socket = Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } socket ? socket : null;
    private readonly ManualResetEventSlim _stopWatchdog = new();
    private Thread? _watchdog;

    /// <summary>The last notification failed: the next failure is not logged again (the watchdog would log every tick).</summary>
    private volatile bool _sendFailed;

    /// <summary>The daemon serves: this process is the service's main process from now on (not <c>dmp load</c>, which
    /// started it and is about to exit).</summary>
    public void Ready(string status) =>
        Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");

    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>A reload begins (<c>dmp reload</c>, ExecReload=); <see cref="Ready"/> says when it is done.</summary>
    public void Reloading(string status) => Send($"RELOADING=1\nSTATUS={status}");

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>
    /// When the unit asks for a watchdog (<c>WATCHDOG_USEC</c>, for this process: <c>WATCHDOG_PID</c> unset or ours),
    /// sends <c>WATCHDOG=1</c> every half interval for as long as the connections counted in <paramref name="statistics"/>
    /// serve (<see cref="ServingHealth"/>, with the interval as the longest a connection may go without answering).
    /// </summary>
    public void StartWatchdog(Stats.ModuleStatistics statistics)
    {
        if (_socket is null || WatchdogInterval() is not { } interval)
        {
            return;
        }

        var health = new ServingHealth(statistics, interval);
        _watchdog = new Thread(() => Watch(health, interval)) { IsBackground = true, Name = "watchdog" };
        _watchdog.Start();
    }

    public void Dispose()
    {
        _stopWatchdog.Set();
        _watchdog?.Join();
        _stopWatchdog.Dispose();
    }

    private void Watch(ServingHealth health, TimeSpan interval)
    {
        string? stuckBefore = null;
        do
        {
            if (health.Check(out string? stuck))
            {
                Send("WATCHDOG=1");
            }
            else if (stuck != stuckBefore)
            {
                DaemonLog.Error($"watchdog: {stuck} has had requests in flight and answered none for longer than {Cli.DurationParser.Format(interval)}: no WATCHDOG=1 until it does");
            }

            stuckBefore = stuck;
        }
        while (!_stopWatchdog.Wait(interval / 2));
    }

    private static TimeSpan? WatchdogInterval()
    {
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is not null && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null; // the watchdog is another process's
        }

        return long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long microseconds)
            && microseconds > 0
            ? TimeSpan.FromMicroseconds(microseconds)
            : null;
    }

    private void Send(string message)
    {
        if (_socket is null)
        {
            return;
        }

        int error = NotifySocket.Send(_socket, message);
        if (error != 0 && !_sendFailed)
        {
            DaemonLog.Warning($"notify systemd ({_socket}): {Errno.Describe(error)} (logged once until one succeeds)");
        }

        _sendFailed = error != 0;
    }
}
