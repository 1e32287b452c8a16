using Dmp.Native;
using Dmp.Stats;
using Dmp.Native.DeviceMapper;
using Dmp.Storage;

namespace Dmp.Daemon;

internal sealed partial class DaemonHost
{
    public const string UnloadRequest = "unload";
    public const string AttachRequest = "attach";
    public const string DetachRequest = "detach";
    public const string CreateRequest = "create";
    public const string RemoveRequest = "remove";
    public const string StatusRequest = "status";

    private static readonly string[] StatusColumns = ["DEVICE", "SIZE", "BACKING", "CACHE", "CONNECTIONS", "IO", "DM DEVICES"];

    private ControlReply HandleControlRequest(string[] request)
    {
        try
        {
            return request switch
            {
                [UnloadRequest] => Unload(),
                [AttachRequest, string backing, string size, string cache, string connections] =>
                    Attach(BackingSpec.Parse(backing), ParseNumber(size), CacheModes.Parse(cache), (int)ParseNumber(connections)),
                [DetachRequest, string device] => Detach(device),
                [CreateRequest, string name, string sectors, string device, string cache, string connections] =>
                    Create(name, ulong.Parse(sectors, System.Globalization.CultureInfo.InvariantCulture), device, CacheModes.Parse(cache), (int)ParseNumber(connections)),
                [RemoveRequest, string name] => Remove(name),
                [StatusRequest] => Status(),
                [ReloadRequest] => Reload(),
                [HandOverRequest] => HandOver(),
                [StatisticsRequests.Clear, string device, string format] => StatisticsRequests.Handle(device, format, ClearStatistics),
                _ when FaultRequests.Handles(request) => FaultRequests.Handle(
                    request, name => ResolveDevice(name) is { } device ? (device.Name, device.Export.Faults) : null, AllFaults),
                _ => ControlReply.Failure($"unknown request '{string.Join(' ', request)}'"),
            };
        }
        catch (Exception exception)
        {
            // Whatever a request runs into, the daemon answers it and carries on serving.
            if (exception is not (NativeException or InvalidOperationException or IOException or FormatException))
            {
                DaemonLog.Error($"control request '{string.Join(' ', request)}': {exception}");
            }

            return ControlReply.Failure(exception.Message);
        }
    }

    /// <summary>rmmod: refuses while any device is held (a dm table, a mount), otherwise stops everything.</summary>
    private ControlReply Unload()
    {
        var claims = new List<FileDescriptor>();
        List<string> unanswered;
        try
        {
            lock (_lifecycle)
            {
                using DeviceMapperControl? deviceMapper = _devices.Exists(HasDeclaredMapping) ? DeviceMapperControl.Open() : null;
                foreach (ServedDevice device in _devices)
                {
                    if (HasDeclaredMapping(device))
                    {
                        // The dm device made for its dmptab line goes with it (Stop removes it); only anything else holding it keeps it.
                        if (InUseBesidesItsMapping(device, deviceMapper) is { } held)
                        {
                            return ControlReply.Failure($"module dmp is in use: {held}");
                        }

                        continue;
                    }

                    if (!TryClaim(device, out FileDescriptor? claim, out string inUse))
                    {
                        return ControlReply.Failure($"module dmp is in use: {inUse}");
                    }

                    if (claim is not null)
                    {
                        claims.Add(claim);
                    }
                }
            }

            // The claims are held through the disconnect, so nothing can grab a device in between.
            unanswered = Stop();
        }
        finally
        {
            claims.ForEach(claim => claim.Dispose());
        }

        _stopSignals.Request();
        return ControlReply.Success(unanswered);
    }

    private IEnumerable<(string Name, Faults.DeviceFaults Faults)> AllFaults()
    {
        lock (_lifecycle)
        {
            return _devices.Select(device => (device.Name, device.Export.Faults)).ToList();
        }
    }

    private static long ParseNumber(string text) => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private ControlReply Attach(BackingSpec backing, long size, CacheMode cache, int connections)
    {
        string? memoryFile = NewMemoryFile(backing);
        IBackingStore store = backing.Open(size, cache, memoryFile: memoryFile);
        lock (_lifecycle)
        {
            return ControlReply.Success(Describe(AttachLocked(store, createdFor: null, connections, memoryFile)));
        }
    }

    private ControlReply Detach(string name)
    {
        lock (_lifecycle)
        {
            ServedDevice device = FindDevice(name) ?? throw new InvalidOperationException($"{name} is not a device dmp serves");
            var output = new List<string>();
            return TryDetachLocked(device, out string inUse, output) ? ControlReply.Success(output) : ControlReply.Failure(inUse);
        }
    }

    /// <summary>
    /// The original's <c>dmsetup create NAME --table "0 LEN dmp DEVICE"</c>: serves DEVICE on a new nbd device
    /// and maps NAME onto it as <c>0 LEN linear nbdK 0</c>. Undoes whatever it did if a step fails.
    /// </summary>
    private ControlReply Create(string name, ulong sectors, string path, CacheMode cache, int connections)
    {
        using DeviceMapperControl deviceMapper = DeviceMapperControl.Open();
        if (deviceMapper.Find(name) is not null)
        {
            return ControlReply.Failure($"device {name} already exists");
        }

        FileStore store;
        try
        {
            store = FileStore.Open(path, cache);
        }
        catch (NativeException exception)
        {
            return ControlReply.Failure($"device lookup failed: {exception.Message}");
        }

        if (sectors > (ulong)store.Size / ServedDevice.BlockSize)
        {
            store.Dispose();
            return ControlReply.Failure($"{sectors} sectors do not fit on {path} ({store.Size / ServedDevice.BlockSize} sectors)");
        }

        lock (_lifecycle)
        {
            ServedDevice device = AttachLocked(store, createdFor: name, connections);
            DmDevice mapped = MapLocked(deviceMapper, name, device, sectors);
            return ControlReply.Success($"{name}: {mapped.KernelName} on {device.Name} ({device.Backing})");
        }
    }

    /// <summary>
    /// Creates the dm device <paramref name="name"/> as <c>0 SECTORS linear nbdK 0</c> over a device just attached for
    /// it, with its /dev/mapper node; on failure detaches the device again. The caller holds <see cref="_lifecycle"/>.
    /// </summary>
    private DmDevice MapLocked(DeviceMapperControl deviceMapper, string name, ServedDevice device, ulong sectors)
    {
        DmDevice? mapped = null;
        try
        {
            mapped = deviceMapper.Create(name, [new DmTarget(0, sectors, "linear", $"{NumberOf(device)} 0")], device.Export.ReadOnly);
            DeviceNodes.EnsureBlockNode(MapperPath(name), mapped.Device);
            return mapped;
        }
        catch
        {
            if (mapped is not null)
            {
                _ = deviceMapper.Remove(name);
            }

            DetachLocked(device);
            throw;
        }
    }

    /// <summary><c>dmsetup remove NAME</c> for a device on dmp, and the nbd device <c>create</c> attached for it.</summary>
    private ControlReply Remove(string name)
    {
        using DeviceMapperControl deviceMapper = DeviceMapperControl.Open();
        DmDevice mapped = deviceMapper.Find(name) ?? throw new InvalidOperationException($"device {name} does not exist");
        lock (_lifecycle)
        {
            IReadOnlyList<DeviceNumber> dependencies = deviceMapper.Dependencies(name);
            List<ServedDevice> below = _devices.Where(device => dependencies.Contains(NumberOf(device))).ToList();
            if (below.Count == 0)
            {
                return ControlReply.Failure($"{name} is not a dmp device: it maps no device dmp serves");
            }

            int error = deviceMapper.Remove(name);
            if (error != 0)
            {
                return ControlReply.Failure(error == Tmds.Linux.LibC.EBUSY ? $"device {name} is in use" : $"remove {name}: {Errno.Describe(error)}");
            }

            DeviceNodes.RemoveBlockNode(MapperPath(name), mapped.Device);
            var output = new List<string>();
            foreach (ServedDevice device in below.Where(device => device.CreatedFor == name))
            {
                if (!TryDetachLocked(device, out string inUse, output))
                {
                    output.Add($"{device.Name} stays attached: {inUse}");
                }
            }

            return ControlReply.Success(output);
        }
    }

    /// <summary>Zeroes one device's counters, or all of them, with new kernel baselines, and returns what they held.</summary>
    private IoCounters? ClearStatistics(string? device)
    {
        lock (_lifecycle)
        {
            return device is null ? _statistics.SnapshotAndReset() : FindDevice(device)?.Statistics.SnapshotAndReset();
        }
    }

    /// <summary>What is loaded: the daemon, each device with its backing and size, and the dm devices on it.</summary>
    private ControlReply Status()
    {
        using DeviceMapperControl? deviceMapper = File.Exists(DeviceMapperControl.ControlPath) ? DeviceMapperControl.Open() : null;
        lock (_lifecycle)
        {
            var rows = new List<string[]> { StatusColumns };
            foreach (ServedDevice device in _devices)
            {
                string holders = string.Join(", ", SysBlock.Holders(device.Name).Select(holder => DescribeMapped(deviceMapper, holder)));
                string name = device.IsConnected ? device.Name : $"{device.Name} (disconnected)";
                rows.Add([
                    name, device.Export.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), device.Backing,
                    IoUringStatus.CacheOf(device.Export.Store), device.Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    IoUringStatus.Name(device.RequestPath), holders.Length > 0 ? holders : "-"]);
            }

            int last = StatusColumns.Length - 1;
            int[] widths = Enumerable.Range(0, last).Select(column => rows.Max(row => row[column].Length)).ToArray();
            return ControlReply.Success(
                [$"dmp loaded: daemon pid {Environment.ProcessId}, run directory {_run.Path}", IoUringStatus.Line, _memoryPressure!.Line,
                    $"reattach timeout: {Cli.DurationParser.Format(_options.ReattachTimeout)} (IO waits that long for a new daemon if this one dies)",
                    .. rows.Select(row => string.Join("  ", row.Select((cell, column) => column < last ? cell.PadRight(widths[column]) : cell)))]);
        }
    }

    /// <summary>"dmp1 (dm-0, open)": a dm device on a served device, and whether anything has it open.</summary>
    private static string DescribeMapped(DeviceMapperControl? deviceMapper, string kernelName)
    {
        string? name = SysBlock.DmName(kernelName);
        if (name is null)
        {
            return kernelName;
        }

        DmDevice? mapped = deviceMapper?.Find(name);
        string state = mapped is null ? "" : mapped.OpenCount > 0 ? ", open" : ", not open";
        return $"{name} ({kernelName}{state})";
    }

    internal static string MapperPath(string name) => $"/dev/mapper/{name}";
}
