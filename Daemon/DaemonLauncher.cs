using System.Diagnostics;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// Both ends of start-up: <c>dmp load</c> re-executes this binary as the hidden <c>daemon</c> command
/// (a running .NET process must not fork) and reads a <see cref="ControlReply"/> from the daemon's stdout:
/// "ok" once every device is connected and the stat tree is mounted, or why start-up failed.
/// </summary>
internal static class DaemonLauncher
{
    /// <summary>Starts a daemon and waits until it is ready.</summary>
    /// <returns>A line for each device it serves.</returns>
    /// <exception cref="InvalidOperationException">The daemon failed to start; the message says why.</exception>
    public static IReadOnlyList<string> Launch(DaemonOptions options) => Launch(options.ToArguments());

    /// <summary>Starts a daemon that takes over the devices a daemon that died left in <paramref name="run"/>, and waits until it serves them.</summary>
    /// <returns>A line for each device it took over.</returns>
    /// <exception cref="InvalidOperationException">The daemon failed to start; the message says why.</exception>
    public static IReadOnlyList<string> TakeOver(RunDirectory run) => Launch(["daemon", "--run-dir", run.Path, "--take-over"]);

    /// <summary>Starts a daemon that takes over from the running one, which hands its devices over, and waits until it serves them.</summary>
    /// <returns>A line for each device handed over.</returns>
    /// <exception cref="InvalidOperationException">Nothing was handed over (the running daemon serves on), or the new daemon failed; the message says why.</exception>
    public static IReadOnlyList<string> HandOver(RunDirectory run) => Launch(["daemon", "--run-dir", run.Path, "--take-over", "--hand-over"]);

    private static IReadOnlyList<string> Launch(IReadOnlyList<string> arguments)
    {
        // Inherited by the daemon's every thread, across execve: reclaim must never wait on a thread that serves
        // the devices it writes back through. The daemon says if it did not take (status, log).
        _ = MemoryPressure.MarkIoFlusher();

        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Under systemd, this process is the unit's main process only until the daemon says READY=1 with MAINPID=
        // (ServiceNotifier): a watchdog meant for this process is the daemon's.
        if (Environment.GetEnvironmentVariable("WATCHDOG_PID") == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            start.Environment.Remove("WATCHDOG_PID");
        }

        using Process daemon = Process.Start(start)!;
        daemon.StandardInput.Close();

        ControlReply? reply = ControlProtocol.ReadReply(daemon.StandardOutput);
        if (reply is null)
        {
            // Without a status line the daemon died before it could say why; its exit code is all there is.
            daemon.WaitForExit();
            throw new InvalidOperationException($"the daemon exited during start-up (exit code {daemon.ExitCode})");
        }

        return reply.Succeeded ? reply.Output : throw new InvalidOperationException(reply.Error);
    }

    /// <summary>Daemon side: what the launcher waits for (not through Console, whose duplicate of stdout would keep the pipe open).</summary>
    public static void Report(ControlReply reply) => StandardStreams.Write(StandardStreams.Output, ControlProtocol.EncodeReply(reply));

    /// <summary>Daemon side: from here on, log lines go to <paramref name="logFile"/>.</summary>
    public static void RedirectStandardError(string logFile) =>
        StandardStreams.Redirect(logFile, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND, StandardStreams.Error);

    /// <summary>Daemon side, once ready: let go of the launcher's pipes so it can exit.</summary>
    public static void DetachStandardStreams() =>
        StandardStreams.Redirect("/dev/null", LibC.O_RDWR, StandardStreams.Input, StandardStreams.Output);
}
