using System.Diagnostics;
using Tmds.Linux;

namespace Dmp.Tests.Server;

/// <summary>
/// A program that reads a stream (<c>cat</c> of a trace file, <c>dmp trace</c>), started straight from .NET
/// with SIGINT at its default disposition, as a terminal starts it: its output lines as they come, and a
/// constructor that returns once the program holds the file open (when one is named), so that what follows is in its stream.
/// </summary>
internal sealed class ReaderProcess : IDisposable
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _errors = [];

    /// <param name="opens">The file the program opens: the constructor waits until it has; null to wait for nothing.</param>
    public ReaderProcess(string program, IEnumerable<string> arguments, string? opens)
    {
        // env resets SIGINT to its default, should this test process have been started with it ignored.
        var start = new ProcessStartInfo("env", ["--default-signal=INT", program, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => Add(_lines, line.Data);
        _process.ErrorDataReceived += (_, line) => Add(_errors, line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (opens is not null && !HasOpen(opens))
        {
            if (_process.HasExited || clock.Elapsed > OpenTimeout)
            {
                throw new InvalidOperationException($"{program} did not open {opens}: {Errors}");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary><c>cat FILE</c>.</summary>
    public static ReaderProcess Cat(string file) => new("cat", [file], file);

    public int Id => _process.Id;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits until at least <paramref name="count"/> lines have come, and returns them all.</summary>
    public IReadOnlyList<string> WaitForLines(int count, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (Lines.Count < count)
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(20)))
            {
                throw new TimeoutException($"{Lines.Count} of {count} lines came");
            }

            Thread.Sleep(5);
        }

        return Lines;
    }

    /// <summary>Waits for the program to end, and for all its output.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        _process.WaitForExit();
        return true;
    }

    /// <summary>Ctrl-C: SIGINT to the program.</summary>
    public void Interrupt() => Assert.Equal(0, LibC.kill(_process.Id, LibC.SIGINT));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
    }

    private static void Add(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    /// <summary>Whether the process (env, then the program env became) has <paramref name="path"/> open.</summary>
    private bool HasOpen(string path)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{_process.Id}/fd")
                .Any(descriptor => new FileInfo(descriptor).LinkTarget == path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false; // the process is between programs, or gone
        }
    }
}
