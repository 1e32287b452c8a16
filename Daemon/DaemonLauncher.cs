using System.Diagnostics;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// Both ends of start-up: <c>dmp load</c> re-executes this binary as the hidden <c>daemon</c> command
/// (a running .NET process must not fork) and reads one line from the daemon's stdout: "ok" once every
/// device is connected and the stat tree is mounted, or "error MESSAGE".
/// </summary>
internal static class DaemonLauncher
{
    /// <summary>Starts a daemon and waits until it is ready.</summary>
    /// <exception cref="InvalidOperationException">The daemon failed to start; the message says why.</exception>
    public static void Launch(DaemonOptions options)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        foreach (string argument in options.ToArguments())
        {
            start.ArgumentList.Add(argument);
        }

        using Process daemon = Process.Start(start)!;
        daemon.StandardInput.Close();
        string? reply = daemon.StandardOutput.ReadLine();
        if (reply == ControlClient.Ok)
        {
            return;
        }

        daemon.WaitForExit();
        throw new InvalidOperationException(reply?.StartsWith(ControlClient.ErrorPrefix, StringComparison.Ordinal) == true
            ? reply[ControlClient.ErrorPrefix.Length..]
            : $"the daemon exited during start-up (exit code {daemon.ExitCode})");
    }

    /// <summary>Daemon side: the one line the launcher waits for.</summary>
    public static void Report(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>Daemon side: from here on, log lines go to <paramref name="logFile"/>.</summary>
    public static void RedirectStandardError(string logFile) =>
        StandardStreams.Redirect(logFile, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND, StandardStreams.Error);

    /// <summary>Daemon side, once ready: let go of the launcher's pipes so it can exit.</summary>
    public static void DetachStandardStreams() =>
        StandardStreams.Redirect("/dev/null", LibC.O_RDWR, StandardStreams.Input, StandardStreams.Output);
}
