using System.Runtime.InteropServices;
using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Sysfs;
using Microsoft.Extensions.ObjectPool;
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
    private readonly IoStatistics _statistics = new();
    private readonly ObjectPool<NbdRequest> _requests = NbdRequestPoolPolicy.CreatePool();
    private readonly ManualResetEventSlim _stopRequested = new();
    private readonly Lock _lifecycle = new();
    private readonly List<ServedDevice> _devices = [];
    private PidFile? _pidFile;
    private NbdNetlinkClient? _netlink;
    private FuseServer? _sysfs;
    private ControlServer? _control;
    private bool _stopped;

    private DaemonHost(DaemonOptions options)
    {
        _options = options;
        _run = options.RunDirectory;
    }

    /// <summary>Marks our devices in /sys/block/nbdN/backend, so a clean-up never touches anyone else's.</summary>
    public static string BackendIdentifier(RunDirectory run) => $"dmp:{run.Path}";

    /// <summary>The daemon process: reports "ok" or "error MESSAGE" on stdout, then serves until stopped.</summary>
    public static int Run(DaemonOptions options)
    {
        _ = LibC.setsid(); // leave the caller's session: its terminal hanging up must not stop us
        Directory.SetCurrentDirectory("/"); // hold no mount busy

        using var host = new DaemonHost(options);
        try
        {
            host.Start();
        }
        catch (Exception exception)
        {
            host.Stop();
            DaemonLauncher.Report(ControlClient.ErrorPrefix + exception.Message);
            return 1;
        }

        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, host.OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, host.OnSignal);
        DaemonLog.Write($"loaded: {string.Join(", ", host._devices.Select(device => $"{device.Name} ({device.Backing})"))}");
        DaemonLauncher.Report(ControlClient.Ok);
        DaemonLauncher.DetachStandardStreams();

        host._stopRequested.Wait();
        host.Stop();
        return 0;
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
        var exports = new List<(BackingSpec Backing, NbdExport Export)>();
        try
        {
            foreach (BackingSpec backing in _options.Backings)
            {
                exports.Add((backing, new NbdExport(backing.Open(_options.Size), _statistics)));
            }

            Directory.CreateDirectory(_run.ModuleMount);
            _sysfs = FuseServer.Mount(_run.ModuleMount, ModuleTree.Create(_statistics), DaemonLog.Write);
            _control = ControlServer.Start(_run.ControlSocket, HandleControlRequest);
            while (exports.Count > 0)
            {
                (BackingSpec backing, NbdExport export) = exports[0];
                _devices.Add(ServedDevice.Attach(_netlink, backing, export, _requests, BackendIdentifier(_run)));
                exports.RemoveAt(0);
            }
        }
        finally
        {
            foreach ((_, NbdExport export) in exports)
            {
                export.Store.Dispose();
            }
        }

        DeviceTable.Write(_run.DeviceTable, _devices.Select(device => device.Record));
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
            foreach (ServedDevice device in Enumerable.Reverse(_devices))
            {
                if (device.Detach(_netlink!) is { } problem)
                {
                    DaemonLog.Write(problem);
                }
            }

            _devices.Clear();
            _control?.Dispose();
            _sysfs?.Dispose();
            _netlink?.Dispose();
            if (_pidFile is not null)
            {
                _run.RemoveDaemonFiles();
                _pidFile.Dispose();
                _run.RemoveIfEmpty();
            }
        }
    }

    public void Dispose()
    {
        Stop();

        // An unload stops everything from the control thread; disposing here (again) waits for that
        // thread, so the process does not exit before the unloading client has its reply.
        _control?.Dispose();
        _stopRequested.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // stop in order rather than die
        _stopRequested.Set();
    }
}
