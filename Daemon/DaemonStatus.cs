namespace Dmp.Daemon;

internal enum DaemonStatus
{
    /// <summary>No pid file: nothing is loaded.</summary>
    NotLoaded,

    /// <summary>A daemon holds the pid file's lock.</summary>
    Running,

    /// <summary>A pid file without its lock: the daemon died without unloading.</summary>
    Dead,
}
