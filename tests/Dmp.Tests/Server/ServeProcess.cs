using System.Diagnostics;
using Dmp.Tests.Cli;

namespace Dmp.Tests.Server;

/// <summary>
/// The real <c>./dmp serve</c>, in the foreground as a user runs it, listening on a Unix socket in a
/// temporary directory (and optionally TCP). Stopped with SIGTERM, which must end it cleanly.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = [];

    /// <param name="environment">Variables to set for it (NOTIFY_SOCKET, say).</param>
    public ServeProcess(string arguments, bool withRunDirectory = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("dmp-serve-").FullName;
        File.SetUnixFileMode(Directory, (UnixFileMode)0x1ed);
        Socket = Path.Combine(Directory, "nbd.sock");
        string runDirectory = withRunDirectory ? $" --run-dir {RunDirectory}" : "";
        var start = new ProcessStartInfo(DmpBinary.Path, $"serve{runDirectory} --listen unix:{Socket} {arguments}")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, line) =>
        {
            lock (_log)
            {
                if (line.Data is not null)
                {
                    _log.Add(line.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!Log.Any(line => line.Contains(": ready: ", StringComparison.Ordinal)))
        {
            if (_process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new InvalidOperationException($"dmp serve did not become ready: {string.Join('\n', Log)}");
            }

            Thread.Sleep(10);
        }
    }

    public string Directory { get; }

    public string Socket { get; }

    public string RunDirectory => Path.Combine(Directory, "run");

    public int Pid => _process.Id;

    /// <summary>The NBD URI of an export, as libnbd's tools take it.</summary>
    public string Uri(string export = "") => $"nbd+unix:///{export}?socket={Socket}";

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>Sends SIGTERM and returns the exit code once the process is gone.</summary>
    public int Stop()
    {
        if (!_process.HasExited)
        {
            Shell.Run($"kill -TERM {_process.Id}");
            if (!_process.WaitForExit(20_000))
            {
                _process.Kill();
                throw new TimeoutException("dmp serve did not stop on SIGTERM");
            }
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            _process.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
