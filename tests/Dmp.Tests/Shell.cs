using System.Diagnostics;

namespace Dmp.Tests;

/// <summary>Runs commands as a user at a terminal would, and returns what they printed.</summary>
internal static class Shell
{
    public const string Nobody = "65534";

    /// <summary>Runs <paramref name="script"/> with bash, optionally as another uid (through setpriv).</summary>
    public static ShellResult Run(string script, string? uid = null)
    {
        var start = uid is null
            ? new ProcessStartInfo("bash", ["-c", script])
            : new ProcessStartInfo("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "bash", "-c", script]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return new ShellResult(process.ExitCode, output.Result, errors);
    }
}

internal sealed record ShellResult(int ExitCode, string Output, string Errors);
