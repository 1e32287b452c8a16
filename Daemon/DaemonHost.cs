using Dmp.Config;
using Dmp.Http;
using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Sysfs;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// The loaded module: serves every backing through a kernel nbd device, keeps the stat tree mounted,
/// and answers the control socket until it is unloaded or told to stop by SIGTERM/SIGINT. What a
/// daemon that takes over needs (the devices, the options, the counters, memory backings) lives in the
/// run directory, so that a daemon that dies can be replaced with no device lost (<c>DaemonHost.TakeOver.cs</c>).
/// A fresh start-up either completes or is undone, so a failed load leaves nothing behind.
/// </summary>
internal sealed partial class DaemonHost : IDisposable
{
    private readonly DaemonOptions _options;
    private readonly RunDirectory _run;
    private readonly bool _takeOver;
    private readonly ModuleStatistics _statistics;
    private readonly ModuleTree _tree;
    private readonly NbdExportCatalog _catalog = new();
    private readonly TraceHub _trace = new();
    private readonly StopSignals _stopSignals = new();
    private readonly ServiceNotifier _notifier = new();

    /// <summary>Guards the device list and the daemon's state; taken by control requests, resets and stopping.</summary>
    private readonly Lock _lifecycle = new();
    private readonly List<ServedDevice> _devices = [];

    /// <summary>Devices of the daemon that died that this one could not take over: still listed, for a later load or a forced unload.</summary>
    private readonly List<DeviceRecord> _leftAlone = [];

    /// <summary>Devices let go of or detached while their store had not answered every request (a disk that hangs).</summary>
    private readonly List<ServedDevice> _waitingForStores = [];
    private MemoryPressureStatus? _memoryPressure;
    private PidFile? _pidFile;
    private KernelAttachment? _kernel;
    private FuseServer? _sysfs;
    private ControlServer? _control;
    private NbdServer? _server;

    /// <summary>The listeners of devices that have one of their own (dmptab <c>listen=</c>), by device name.</summary>
    private readonly Dictionary<string, DeviceListener> _deviceListeners = [];
    private MetricsTextfile? _textfile;
    private MetricsHttpServer? _metricsServer;
    private bool _stopped;

    /// <summary>The sockets a running daemon handed over (<c>dmp restart</c>), by device; null when it did not.</summary>
    private readonly Dictionary<string, (List<FileDescriptor> Sockets, List<byte[]> Unread)>? _handedOverSockets;

    /// <param name="takeOver">Serve the devices a daemon that died (or handed over) left in the run directory, rather than new ones.</param>
    private DaemonHost(DaemonOptions options, bool takeOver, Dictionary<string, (List<FileDescriptor> Sockets, List<byte[]> Unread)>? handedOverSockets)
    {
        _options = options;
        _run = options.RunDirectory;
        _takeOver = takeOver || handedOverSockets is not null;
        _handedOverSockets = handedOverSockets;
        _statistics = new ModuleStatistics(options.Statistics, CounterStorage.InDirectory(_run.CountersDirectory));
        _tree = new ModuleTree(
            _statistics, options.Parameters, () => HoldersOf(_catalog.List().Select(export => export.Name)), ResetStatistics, _trace, DaemonLog.Warning);
    }

    /// <summary>Marks our devices in /sys/block/nbdN/backend, so a clean-up never touches anyone else's.</summary>
    public static string BackendIdentifier(RunDirectory run) => $"dmp:{run.Path}";

    /// <summary>The daemon process: reports its start-up on stdout (<see cref="DaemonLauncher"/>), then serves until stopped.</summary>
    /// <param name="takeOver">Take over the devices a daemon that died left in the run directory.</param>
    /// <param name="handOver">Take over from the running daemon, which hands its sockets over (<c>dmp restart</c>).</param>
    public static int Run(DaemonOptions options, bool takeOver, bool handOver = false)
    {
        Processes.StartSession(); // leave the caller's session: its terminal hanging up must not stop us
        Directory.SetCurrentDirectory("/"); // hold no mount busy

        DaemonHost host;
        try
        {
            host = new DaemonHost(options, takeOver, handOver ? ReceiveHandOver(options.RunDirectory) : null);
        }
        catch (Exception exception) when (exception is InvalidDataException or InvalidOperationException)
        {
            DaemonLauncher.Report(ControlReply.Failure(exception.Message));
            return 1;
        }

        using (host)
        {
            host._notifier.StartWatchdog(host._statistics); // from the start: attaching devices may take a while
            try
            {
                host.Start();
            }
            catch (Exception exception)
            {
                // A fresh load is undone; a take-over that failed leaves the devices and files for the next.
                _ = host.Stop(forGood: !takeOver);
                DaemonLauncher.Report(ControlReply.Failure(exception.Message));
                return 1;
            }

            string verb = handOver ? "took over from the daemon before" : takeOver ? "took over" : "loaded";
            DaemonLog.Info($"{verb}: {string.Join(", ", host._devices.Select(device => $"{device.Name} ({device.Backing})"))}; {IoUringStatus.Line}");

            // Before the launcher learns that we serve and exits, so that systemd has our pid as the main one by then.
            host._notifier.Ready(host.ServiceStatus());
            DaemonLauncher.Report(ControlReply.Success(
                [.. host._devices.Select(device => host._takeOver ? host.DescribeTakenOver(device) : host.Describe(device)),
                    .. host._leftAlone.Select(record => $"{record.Name}: left alone (see {host._run.LogFile})"),
                    .. host._server?.Addresses.Select(address => $"listening on {address}") ?? [],
                    .. host._metricsServer?.Addresses.Select(address => $"metrics on {address}") ?? []]));
            DaemonLauncher.DetachStandardStreams();

            host._stopSignals.Wait();
            _ = host.Stop(forGood: !host._handedOver && !host._stopSignals.LetGo);
            return 0;
        }
    }

    /// <summary>Keeps <paramref name="device"/> for <see cref="Stop"/> if its store has requests left to answer. The caller holds <see cref="_lifecycle"/>.</summary>
    private void KeepIfWaitingForStore(ServedDevice device)
    {
        _ = _waitingForStores.RemoveAll(kept => !kept.IsWaitingForStore);
        if (device.IsWaitingForStore)
        {
            _waitingForStores.Add(device);
        }
    }

    public void Dispose()
    {
        _ = Stop();

        // An unload stops everything from the control thread; disposing here (again) waits for that
        // thread, so the process does not exit before the unloading client has its reply.
        _control?.Dispose();
        _stopSignals.Dispose();
        _notifier.Dispose();
    }

    private void Start()
    {
        Directory.CreateDirectory(_run.Path);
        _pidFile = _handedOverSockets is not null
            ? AwaitPidFile()
            : PidFile.TryAcquire(_run.PidFile) ?? throw new InvalidOperationException($"could not load module dmp: {Errno.Describe(LibC.EEXIST)}");
        if (!DaemonLog.ToJournal)
        {
            DaemonLauncher.RedirectStandardError(_run.LogFile);
        }

        _memoryPressure = MemoryPressureStatus.Apply();
        DaemonLog.Info(_memoryPressure.Line);

        NbdNetlinkClient netlink = NbdNetlinkClient.TryOpen()
            ?? throw new InvalidOperationException("the kernel has no nbd support (the nbd module is not loaded)");
        _kernel = new KernelAttachment(netlink, BackendIdentifier(_run), _options.ReattachTimeout, _run, _trace, DaemonLog.Warning);
        if (_takeOver)
        {
            TakeOver();
            return;
        }

        // Nothing is left of a daemon before: counts of devices it detached do not carry over.
        _statistics.Reset();
        File.WriteAllLines(_run.OptionsFile, _options.ToArguments());

        // Open every backing before attaching any device: a bad path then costs no kernel change at all.
        IReadOnlyList<DmpTabEntry> declared = _options.Config is { } config ? DmpTab.Read(config, _options.Cache, _options.Connections) : [];
        var stores = new List<(IBackingStore Store, string? MemoryFile, DmpTabEntry? Entry)>();
        try
        {
            foreach (BackingSpec backing in _options.Backings)
            {
                string? memoryFile = NewMemoryFile(backing);
                stores.Add((backing.Open(_options.Size, _options.Cache, memoryFile: memoryFile), memoryFile, null));
            }

            foreach (DmpTabEntry entry in declared)
            {
                (IBackingStore store, string? memoryFile) = OpenDeclared(entry);
                stores.Add((store, memoryFile, entry));
            }

            StartServices();
            using DeviceMapperControl? deviceMapper = DeviceMapperFor(declared);
            lock (_lifecycle)
            {
                while (stores.Count > 0)
                {
                    (IBackingStore store, string? memoryFile, DmpTabEntry? entry) = stores[0];
                    stores.RemoveAt(0); // from here on AttachLocked owns it
                    _ = entry is null
                        ? AttachLocked(store, createdFor: null, _options.Connections, memoryFile)
                        : AttachDeclaredLocked(entry, store, memoryFile, deviceMapper);
                }
            }
        }
        finally
        {
            foreach ((IBackingStore store, string? memoryFile, _) in stores)
            {
                store.Dispose();
                DeleteMemoryFile(memoryFile);
            }
        }
    }

    /// <summary>The stat tree, the control socket, NBD listeners, the metrics textfile and HTTP listeners.</summary>
    private void StartServices()
    {
        Directory.CreateDirectory(_run.ModuleMount);
        _sysfs = FuseServer.Mount(_run.ModuleMount, _tree.Tree, DaemonLog.Warning);
        _control = ControlServer.Start(_run.ControlSocket, HandleControlRequest);
        if (_options.Listen.Count > 0)
        {
            _server = StartNbdServer(_options.Listen, _catalog);
        }

        if (_options.MetricsTextfile is { } textfile)
        {
            _textfile = new MetricsTextfile(textfile, () => MetricsExposition.Format(_statistics));
        }

        if (_options.MetricsListen is { Count: > 0 } metricsListen)
        {
            _metricsServer = MetricsHttpServer.Start(metricsListen, () => MetricsExposition.Format(_statistics), DaemonLog.ClientWarning);
        }
    }

    /// <summary>
    /// An NBD server for clients of the exports of <paramref name="catalog"/>: load's <c>--listen</c>, or one device's own
    /// (with load's TLS settings either way).
    /// </summary>
    private NbdServer StartNbdServer(IReadOnlyList<NbdListenAddress> addresses, NbdExportCatalog catalog) =>
        NbdServer.Start(addresses, catalog, DaemonLog.ClientWarning, _options.Tls ?? NbdTlsSettings.Off);

    /// <summary>
    /// Detaches every device and removes everything start-up created; or, not <paramref name="forGood"/>, lets go
    /// of the devices (their sockets close, the kernel holds their IO for the next daemon) and leaves the run
    /// directory's files as they are, for the next daemon to take over. Safe to call twice.
    /// </summary>
    /// <returns>Lines for the user: the devices whose stores did not answer every request in time (a disk that hangs).</returns>
    private List<string> Stop(bool forGood = true)
    {
        var unanswered = new List<string>();
        lock (_lifecycle)
        {
            if (_stopped)
            {
                return unanswered;
            }

            _stopped = true;
        }

        _notifier.Stopping(forGood ? "unloading" : "exiting; the devices wait for the next daemon to take them over");

        // Each step is attempted whatever happened to the one before. NBD clients go first: their requests
        // use the stores the devices are about to close. The stat tree is unmounted outside the lock, since
        // a reset in progress on the FUSE thread needs it.
        BestEffort("stop serving NBD clients", () =>
        {
            _server?.Dispose();
            foreach (DeviceListener listener in _deviceListeners.Values)
            {
                listener.Dispose();
            }
        });
        BestEffort("remove the metrics textfile", () => _textfile?.Dispose());
        BestEffort("stop serving the metrics over HTTP", () => _metricsServer?.Dispose());
        BestEffort("unmount the stat tree", () => _sysfs?.Dispose());
        lock (_lifecycle)
        {
            // The dm devices made for dmptab lines go with their devices, as they came with them.
            using DeviceMapperControl? deviceMapper = forGood && _devices.Exists(HasDeclaredMapping) && File.Exists(DeviceMapperControl.ControlPath)
                ? DeviceMapperControl.Open()
                : null;

            // One wait for every device whose store hangs, not one each.
            DateTime deadline = DateTime.UtcNow + ServedDevice.UnansweredTimeout;
            foreach (ServedDevice device in _devices.ToList())
            {
                BestEffort($"{(forGood ? "detach" : "let go of")} {device.Name}", () =>
                {
                    if (forGood)
                    {
                        if (deviceMapper is not null && RemoveDeclaredMapping(device, deviceMapper) is { } problem)
                        {
                            DaemonLog.Warning($"{device.Name}: {problem}");
                        }

                        if (DetachLocked(device, deadline) is { } late)
                        {
                            unanswered.Add(late);
                        }
                    }
                    else
                    {
                        device.LetGo(DaemonLog.Warning);
                        KeepIfWaitingForStore(device);
                    }
                });
            }

            // The process exits next. A store's own descriptors close now, so that the last close of a disk that hangs is
            // its rings', on a kernel worker (IoRing.RegisterFiles): the thread that closed it would wait for the disk's
            // dirty pages, and a process keeps its pid until its last thread is gone.
            BestEffort("close the stores that did not answer", () => _waitingForStores.ForEach(device => device.Export.Store.Dispose()));
        }

        BestEffort("close the control socket", () => _control?.Dispose());
        BestEffort("close netlink", () => _kernel?.Netlink.Dispose());
        if (_pidFile is null)
        {
            return unanswered;
        }

        if (forGood)
        {
            BestEffort("remove the run directory's files", _run.RemoveDaemonFiles);
            _pidFile.Dispose();
            BestEffort("remove the run directory", _run.RemoveIfEmpty);
        }
        else
        {
            _pidFile.Abandon();
        }

        return unanswered;
    }
}
