namespace Dmp.Daemon;

/// <summary>What a pid file says: whether a daemon is loaded, and its pid (0 if unreadable).</summary>
internal readonly record struct DaemonState(DaemonStatus Status, int Pid);
