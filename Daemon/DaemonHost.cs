using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Sysfs;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// The loaded module: serves every backing through a kernel nbd device, keeps the stat tree mounted,
/// and answers the control socket until it is unloaded or told to stop by SIGTERM/SIGINT.
/// Start-up either completes or is undone, so a failed load leaves nothing behind.
/// </summary>
internal sealed partial class DaemonHost : IDisposable
{
    private readonly DaemonOptions _options;
    private readonly RunDirectory _run;
    private readonly ModuleStatistics _statistics;
    private readonly ModuleTree _tree;
    private readonly NbdExportCatalog _catalog = new();
    private readonly TraceHub _trace = new();
    private readonly StopSignals _stopSignals = new();

    /// <summary>Guards the device list and the daemon's state; taken by control requests, resets and stopping.</summary>
    private readonly Lock _lifecycle = new();
    private readonly List<ServedDevice> _devices = [];
    private PidFile? _pidFile;
    private NbdNetlinkClient? _netlink;
    private FuseServer? _sysfs;
    private ControlServer? _control;
    private NbdServer? _server;
    private MetricsTextfile? _textfile;
    private bool _stopped;

    private DaemonHost(DaemonOptions options)
    {
        _options = options;
        _run = options.RunDirectory;
        _statistics = new ModuleStatistics(options.Statistics);
        _tree = new ModuleTree(
            _statistics, options.Parameters, () => HoldersOf(_catalog.List().Select(export => export.Name)), ResetStatistics, _trace, DaemonLog.Write);
    }

    /// <summary>Marks our devices in /sys/block/nbdN/backend, so a clean-up never touches anyone else's.</summary>
    public static string BackendIdentifier(RunDirectory run) => $"dmp:{run.Path}";

    /// <summary>The daemon process: reports its start-up on stdout (<see cref="DaemonLauncher"/>), then serves until stopped.</summary>
    public static int Run(DaemonOptions options)
    {
        Processes.StartSession(); // leave the caller's session: its terminal hanging up must not stop us
        Directory.SetCurrentDirectory("/"); // hold no mount busy

        using var host = new DaemonHost(options);
        try
        {
            host.Start();
        }
        catch (Exception exception)
        {
            host.Stop();
            DaemonLauncher.Report(ControlReply.Failure(exception.Message));
            return 1;
        }

        DaemonLog.Write($"loaded: {string.Join(", ", host._devices.Select(device => $"{device.Name} ({device.Backing})"))}; {IoUringStatus.Line}");
        DaemonLauncher.Report(ControlReply.Success(
            [.. host._devices.Select(Describe), .. host._server?.Addresses.Select(address => $"listening on {address}") ?? []]));
        DaemonLauncher.DetachStandardStreams();

        host._stopSignals.Wait();
        host.Stop();
        return 0;
    }

    public void Dispose()
    {
        Stop();

        // An unload stops everything from the control thread; disposing here (again) waits for that
        // thread, so the process does not exit before the unloading client has its reply.
        _control?.Dispose();
        _stopSignals.Dispose();
    }

    private void Start()
    {
        Directory.CreateDirectory(_run.Path);
        _pidFile = PidFile.TryAcquire(_run.PidFile)
            ?? throw new InvalidOperationException($"could not load module dmp: {Errno.Describe(LibC.EEXIST)}");
        DaemonLauncher.RedirectStandardError(_run.LogFile);

        _netlink = NbdNetlinkClient.TryOpen()
            ?? throw new InvalidOperationException("the kernel has no nbd support (the nbd module is not loaded)");

        // Open every backing before attaching any device: a bad path then costs no kernel change at all.
        var stores = new List<IBackingStore>();
        try
        {
            foreach (BackingSpec backing in _options.Backings)
            {
                stores.Add(backing.Open(_options.Size, _options.Cache));
            }

            Directory.CreateDirectory(_run.ModuleMount);
            _sysfs = FuseServer.Mount(_run.ModuleMount, _tree.Tree, DaemonLog.Write);
            _control = ControlServer.Start(_run.ControlSocket, HandleControlRequest);
            if (_options.Listen.Count > 0)
            {
                _server = NbdServer.Start(_options.Listen, _catalog, DaemonLog.Write);
            }

            if (_options.MetricsTextfile is { } textfile)
            {
                _textfile = new MetricsTextfile(textfile, () => MetricsExposition.Format(_statistics));
            }

            lock (_lifecycle)
            {
                while (stores.Count > 0)
                {
                    IBackingStore store = stores[0];
                    stores.RemoveAt(0); // from here on AttachLocked owns it
                    AttachLocked(store, createdFor: null, _options.Connections);
                }
            }
        }
        finally
        {
            stores.ForEach(store => store.Dispose());
        }
    }

    /// <summary>Detaches every device and removes everything start-up created. Safe to call twice.</summary>
    private void Stop()
    {
        lock (_lifecycle)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        // Each step is attempted whatever happened to the one before. NBD clients go first: their requests
        // use the stores the devices are about to close. The stat tree is unmounted outside the lock, since
        // a reset in progress on the FUSE thread needs it.
        BestEffort("stop serving NBD clients", () => _server?.Dispose());
        BestEffort("remove the metrics textfile", () => _textfile?.Dispose());
        BestEffort("unmount the stat tree", () => _sysfs?.Dispose());
        lock (_lifecycle)
        {
            foreach (ServedDevice device in _devices.ToList())
            {
                BestEffort($"detach {device.Name}", () => DetachLocked(device));
            }
        }

        BestEffort("close the control socket", () => _control?.Dispose());
        BestEffort("close netlink", () => _netlink?.Dispose());
        if (_pidFile is not null)
        {
            BestEffort("remove the run directory's files", _run.RemoveDaemonFiles);
            _pidFile.Dispose();
            BestEffort("remove the run directory", _run.RemoveIfEmpty);
        }
    }
}
