using Dmp.Http;
using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Faults;
using Dmp.Sysfs;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// <c>dmp serve</c>: the NBD server in the foreground, without the kernel's client (like <c>nbdkit -f</c>).
/// Needs no root and no nbd module; with a run directory it also mounts the stat tree when FUSE allows.
/// Logs on stderr and stops cleanly on SIGINT or SIGTERM.
/// </summary>
internal sealed class ServeHost : IDisposable
{
    private readonly DaemonOptions _options;
    private readonly RunDirectory? _run;
    private readonly bool _readOnly;
    private readonly ModuleStatistics _statistics;
    private readonly ModuleTree _tree;
    private readonly NbdExportCatalog _catalog = new();
    private readonly TraceHub _trace = new();
    private readonly List<IBackingStore> _stores = [];
    private PidFile? _pidFile;
    private FuseServer? _sysfs;
    private ControlServer? _control;
    private NbdServer? _server;
    private MetricsHttpServer? _metricsServer;

    private ServeHost(DaemonOptions options, RunDirectory? run, bool readOnly)
    {
        _options = options;
        _run = run;
        _readOnly = readOnly;
        _statistics = new ModuleStatistics(options.Statistics);
        _tree = new ModuleTree(_statistics, options.Parameters, () => [], _statistics.Reset, _trace, DaemonLog.Warning);
    }

    /// <summary>The name of the export serving backing number <paramref name="index"/>.</summary>
    public static string ExportName(int index) => $"export{index}";

    /// <param name="run">Where to keep a pid file and mount the stat tree, or null for neither.</param>
    public static int Run(DaemonOptions options, RunDirectory? run, bool readOnly)
    {
        if (options.Listen.Count == 0)
        {
            throw new InvalidOperationException("serve needs at least one --listen address");
        }

        using var host = new ServeHost(options, run, readOnly);
        using var stop = new StopSignals();
        using var notifier = new ServiceNotifier(); // stops watching before the host goes
        notifier.StartWatchdog(host._statistics);
        host.Start();
        DaemonLog.Info($"ready: serving {string.Join(", ", host._catalog.List().Select(entry => $"{entry.Name} ({entry.Export.Store.Description}, {entry.Export.Size} bytes)"))} on {string.Join(", ", host._server!.Addresses)}{MetricsLine(host._metricsServer)}; {IoUringStatus.Line}");
        int exports = host._catalog.List().Count;
        notifier.Ready($"serving {exports} export{(exports == 1 ? "" : "s")} on {string.Join(", ", host._server.Addresses)}");
        stop.Wait();
        notifier.Stopping("stopping");
        DaemonLog.Info("stopping");
        return 0;
    }

    public void Dispose()
    {
        _server?.Dispose(); // clients first: they use the stores
        _metricsServer?.Dispose();
        _control?.Dispose();
        _sysfs?.Dispose();
        if (_server?.AllClientsEnded != false)
        {
            _stores.ForEach(store => store.Dispose());
        }

        if (_pidFile is not null)
        {
            _run!.RemoveDaemonFiles();
            _pidFile.Dispose();
            _run.RemoveIfEmpty();
        }
    }

    private void Start()
    {
        if (_run is not null)
        {
            Directory.CreateDirectory(_run.Path);
            _pidFile = PidFile.TryAcquire(_run.PidFile)
                ?? throw new InvalidOperationException($"{_run.Path} is in use by another dmp: {Errno.Describe(LibC.EEXIST)}");
        }

        for (int index = 0; index < _options.Backings.Count; index++)
        {
            IBackingStore store = _options.Backings[index].Open(_options.Size, _options.Cache, _readOnly);
            _stores.Add(store);
            DeviceStatistics statistics = _statistics.AddDevice(ExportName(index));
            var export = new NbdExport(store, statistics, _readOnly, _trace);
            _catalog.Add(ExportName(index), export);
            _tree.AddDevice(new DeviceFiles(statistics, export.Faults, store.Description, store.Size, Baseline: null, Holders: null, statistics.Reset));
        }

        if (_run is not null)
        {
            MountStatTree(_run);
            _control = ControlServer.Start(_run.ControlSocket, request => request switch
            {
                [StatisticsRequests.Clear, string device, string format] => StatisticsRequests.Handle(device, format, ClearStatistics),
                _ when FaultRequests.Handles(request) => FaultRequests.Handle(request, FindFaults, AllFaults),
                _ => ControlReply.Failure("dmp serve answers only statistics and fault requests"),
            });
        }

        if (_options.MetricsListen is { Count: > 0 } metricsListen)
        {
            _metricsServer = MetricsHttpServer.Start(metricsListen, () => MetricsExposition.Format(_statistics), DaemonLog.ClientWarning);
        }

        _server = NbdServer.Start(_options.Listen, _catalog, DaemonLog.ClientWarning, _options.Tls ?? NbdTlsSettings.Off);
    }

    private (string Name, DeviceFaults Faults)? FindFaults(string name) =>
        name.Length > 0 && _catalog.Find(name) is { } entry ? (entry.Name, entry.Export.Faults) : null;

    private IEnumerable<(string Name, DeviceFaults Faults)> AllFaults() =>
        _catalog.List().Select(entry => (entry.Name, entry.Export.Faults));

    private IoCounters? ClearStatistics(string? device) => device is null
        ? _statistics.SnapshotAndReset()
        : _statistics.Devices.FirstOrDefault(statistics => statistics.Name == device)?.SnapshotAndReset();

    /// <summary>The stat tree is a convenience here: without FUSE (or without root) dmp serves all the same.</summary>
    private void MountStatTree(RunDirectory run)
    {
        try
        {
            if (Processes.IsRoot)
            {
                KernelModules.EnsureFuse();
            }

            Directory.CreateDirectory(run.ModuleMount);
            _sysfs = FuseServer.Mount(run.ModuleMount, _tree.Tree, DaemonLog.Warning);
        }
        catch (Exception exception) when (exception is NativeException or InvalidOperationException)
        {
            DaemonLog.Warning($"the stat tree is not mounted: {exception.Message}");
        }
    }

    /// <summary>The ready line's mention of the metrics listeners, if any.</summary>
    private static string MetricsLine(MetricsHttpServer? server) =>
        server is null ? "" : $", metrics on {string.Join(", ", server.Addresses)}";
}
