using System.Globalization;
using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>
/// The daemon's log, on stderr. When <c>JOURNAL_STREAM</c> says stderr is the journal (systemd's unit), each line
/// starts with its syslog priority (<c>&lt;3&gt;</c> and so on) and nothing else, as the journal keeps the time and the
/// pid; otherwise lines are timestamped, and the daemon points stderr at RUNDIR/dmp.log.
/// </summary>
internal static class DaemonLog
{
    private const int ErrorPriority = 3;
    private const int WarningPriority = 4;
    private const int InfoPriority = 6;

    private static readonly ThrottledLog Clients = new(Warning);

    /// <summary>Whether stderr is the journal: <c>JOURNAL_STREAM</c> ("DEVICE:INODE") names the file stderr is open on.</summary>
    public static bool ToJournal { get; } = IsJournal(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));

    /// <summary>What a command's error line on stderr starts with: its priority when stderr is the journal (a unit's
    /// <c>dmp load</c> that fails), otherwise nothing.</summary>
    public static string ErrorPrefix => ToJournal ? $"<{ErrorPriority}>" : "";

    /// <summary>Something the daemon was to do failed.</summary>
    public static void Error(string message) => Write(ErrorPriority, message);

    /// <summary>Something went wrong that the daemon copes with (a client that misbehaved, a device left alone).</summary>
    public static void Warning(string message) => Write(WarningPriority, message);

    /// <summary>What a network client did wrong (an NBD handshake that failed or stalled, a bad HTTP request): a warning,
    /// throttled, since clients can make these as often as they like.</summary>
    public static void ClientWarning(string message) => Clients.Write(message);

    /// <summary>What the daemon did: loaded, took over, handed over, stopped.</summary>
    public static void Info(string message) => Write(InfoPriority, message);

    private static void Write(int priority, string message) => Console.Error.WriteLine(ToJournal
        ? $"<{priority}>{message.Replace("\n", $"\n<{priority}>", StringComparison.Ordinal)}"
        : $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} dmp[{Environment.ProcessId}]: {message}");

    private static bool IsJournal(string? journalStream) =>
        journalStream?.Split(':') is [string device, string inode]
        && ulong.TryParse(device, NumberStyles.None, CultureInfo.InvariantCulture, out ulong deviceNumber)
        && ulong.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inodeNumber)
        && StandardStreams.Is(StandardStreams.Error, deviceNumber, inodeNumber);
}
