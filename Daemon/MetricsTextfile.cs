using Dmp.Stats;

namespace Dmp.Daemon;

/// <summary>
/// Keeps the metrics in a file for node_exporter's textfile collector: rewritten every few seconds
/// through a temporary file and a rename, so the collector never reads half a file; removed at the end.
/// </summary>
internal sealed class MetricsTextfile : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly string _path;
    private readonly Func<string> _metrics;
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private bool _disposed;

    public MetricsTextfile(string path, Func<string> metrics)
    {
        _path = path;
        _metrics = metrics;
        Write(); // at once, so a bad path fails the load
        _timer = new Timer(_ => WriteLogged(), null, Interval, Interval);
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            _disposed = true;
            File.Delete(_path);
        }
    }

    private void WriteLogged()
    {
        try
        {
            Write();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            DaemonLog.Error($"metrics textfile {_path}: {exception.Message}");
        }
    }

    private void Write()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            string temporary = $"{_path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, _metrics());
            File.Move(temporary, _path, overwrite: true);
        }
    }
}
