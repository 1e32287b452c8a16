using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>How the daemon stands against memory pressure (<see cref="MemoryPressure"/>), as the log and <c>dmp status</c> say it.</summary>
/// <param name="IoFlusher">0, or why the daemon's threads are not I/O flushers (the launcher could not mark them).</param>
/// <param name="Locked">0, or why its memory is not locked.</param>
/// <param name="OomScore">0, or why its <c>oom_score_adj</c> is not <see cref="MemoryPressure.NeverKill"/>.</param>
internal sealed record MemoryPressureStatus(int IoFlusher, int Locked, int OomScore)
{
    /// <summary>Takes every measure this process can, and says which it got.</summary>
    public static MemoryPressureStatus Apply() => new(
        MemoryPressure.IsIoFlusher ? 0 : Tmds.Linux.LibC.EPERM, MemoryPressure.LockAll(), MemoryPressure.SetOomScoreAdjustment(MemoryPressure.NeverKill));

    /// <summary>"memory pressure: every thread an I/O flusher, memory locked, oom_score_adj -1000", or what is missing and why.</summary>
    public string Line =>
        $"memory pressure: {Say(IoFlusher, "every thread an I/O flusher", "not an I/O flusher")}, {Say(Locked, "memory locked", "memory not locked")}, " +
        Say(OomScore, $"oom_score_adj {MemoryPressure.NeverKill}", "oom_score_adj not set");

    private static string Say(int error, string done, string missing) => error == 0 ? done : $"{missing} ({Errno.Describe(error)})";
}
