using System.Globalization;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// What keeps a daemon that serves block devices out of the way of the kernel reclaiming memory, which may have to
/// write through those very devices: a thread marked as an I/O flusher (PR_SET_IO_FLUSHER: its allocations do no
/// I/O, and it is not throttled as a writer), memory locked so that it is never paged out, and last place in the
/// OOM killer's list. Each reports errno rather than throwing: a daemon that cannot have one still serves.
/// </summary>
internal static partial class MemoryPressure
{
    internal const int SetIoFlusher = 57;   // PR_SET_IO_FLUSHER
    internal const int GetIoFlusher = 58;   // PR_GET_IO_FLUSHER

    /// <summary>The lowest OOM score adjustment: the OOM killer never picks the process.</summary>
    public const int NeverKill = -1000;

    /// <summary>Marks the calling thread an I/O flusher. Threads (and processes) it starts from then on inherit the mark,
    /// across execve too: marked before a daemon is started, every thread of the daemon has it.</summary>
    /// <returns>0 or errno (EPERM without CAP_SYS_RESOURCE; EINVAL before Linux 5.6).</returns>
    public static int MarkIoFlusher() => Errno.Of(ProcessControl(SetIoFlusher, 1, 0, 0, 0));

    /// <summary>Whether the calling thread is marked an I/O flusher.</summary>
    public static bool IsIoFlusher => ProcessControl(GetIoFlusher, 0, 0, 0, 0) == 1;

    /// <summary>Locks the process's memory, what it has and what it maps later, each page as it is first touched
    /// (MCL_ONFAULT: reservations that are never used cost nothing).</summary>
    /// <returns>0 or errno.</returns>
    public static int LockAll() => Errno.Of(LibC.mlockall(LibC.MCL_CURRENT | LibC.MCL_FUTURE | LibC.MCL_ONFAULT));

    /// <summary>Sets the process's <c>oom_score_adj</c>.</summary>
    /// <returns>0 or errno.</returns>
    public static int SetOomScoreAdjustment(int adjustment)
    {
        try
        {
            File.WriteAllText("/proc/self/oom_score_adj", adjustment.ToString(CultureInfo.InvariantCulture));
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return LibC.EACCES;
        }
        catch (IOException)
        {
            return LibC.EIO;
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int ProcessControl(int option, ulong argument2, ulong argument3, ulong argument4, ulong argument5);
}
