using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.Nbd;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// A kernel nbd device attached to the daemon over one or more socketpairs (the kernel spreads its
/// requests over them, a hardware queue each), and the connections serving them, a thread each.
/// </summary>
internal sealed partial class ServedDevice
{
    /// <summary>Logical block size: 512 lets 512-byte and 1 KiB direct IO through, as on the original.</summary>
    public const int BlockSize = 512;

    /// <summary>How long a detach waits for the store to answer the requests it has begun (a disk that hangs may never):
    /// past it the device is detached all the same, and the store closes once it has answered them. The kernel has failed
    /// them as soon as the device was disconnected: the wait holds up nothing but the command.</summary>
    public static readonly TimeSpan UnansweredTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a connection takes to end once its socket is shut down, when it waits for nothing else.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long the kernel may take to see that the sockets of a daemon that died are closed (its receive
    /// work marks them dead), during which it turns away new ones: a re-attach tries again until then.</summary>
    private static readonly TimeSpan ReattachPatience = TimeSpan.FromSeconds(5);

    private readonly KernelAttachment _kernel;
    private readonly List<NbdConnection> _connections;

    /// <summary>Taken to replace a connection in <see cref="_connections"/>, and to set <see cref="_detaching"/>: once that is
    /// set, the list no longer changes.</summary>
    private readonly Lock _connectionsLock = new();
    private volatile bool _detaching;

    /// <summary>Whether the log has said the device was disconnected (each of its connections finds it so).</summary>
    private bool _disconnectLogged;

    private ServedDevice(KernelAttachment kernel, int index, string? createdFor, string? declared, List<NbdConnection> connections)
    {
        _kernel = kernel;
        Index = index;
        CreatedFor = createdFor;
        Declared = declared;
        _connections = connections;
    }

    public int Index { get; }

    public string Name => NameOf(Index);

    public string DevicePath => $"/dev/{Name}";

    /// <summary>What backs the device, as the user named it.</summary>
    public string Backing => Export.Store.Description;

    /// <summary>The dm device <c>dmp create</c> attached this device for, if it did.</summary>
    public string? CreatedFor { get; }

    /// <summary>The dmptab NAME of the line that declared this device, if one did (reload changes only those).</summary>
    public string? Declared { get; }

    public NbdExport Export => _connections[0].Export;

    public DeviceStatistics Statistics => Export.Statistics;

    /// <summary>The sockets the kernel has for this device.</summary>
    public int Connections => _connections.Count;

    /// <summary>How its requests are carried out (every connection alike).</summary>
    public NbdRequestPath RequestPath => _connections[0].Path;

    /// <summary>After a detach or let-go that did not wait for them: whether requests the store began are still running.</summary>
    public bool IsWaitingForStore => !EveryConnectionEnded;

    /// <summary>False once the kernel side has gone (disconnected by someone else, or failed).</summary>
    public bool IsConnected => _connections.TrueForAll(connection => !connection.Completion.IsCompleted);

    /// <summary>Every connection has ended, and with it every request it began.</summary>
    private bool EveryConnectionEnded => _connections.TrueForAll(connection => connection.Completion.IsCompleted);

    public DeviceRecord Record => new(
        Index, Export.Size, Backing, CreatedFor, Export.Store is FileStore file ? file.Cache : CacheMode.None, Connections, Declared, Export.ReadOnly);

    public static string NameOf(int index) => $"nbd{index}";

    /// <summary>
    /// Hands one end of each of <paramref name="connections"/> socketpairs to the kernel (NBD_CMD_CONNECT; the
    /// kernel picks a free device) and serves <paramref name="store"/> on the other ends. The counters start from
    /// zero with the kernel's as their baseline, read before the first reply goes out, so that both start from the
    /// same moment. On failure nothing stays attached, and the store is still the caller's.
    /// </summary>
    /// <param name="declared">The dmptab NAME that declares the device, or null.</param>
    /// <param name="readOnly">The kernel makes the device read-only (NBD_FLAG_READ_ONLY), and the export refuses changes.</param>
    public static ServedDevice Attach(
        KernelAttachment kernel, IBackingStore store, ModuleStatistics statistics, string? createdFor, int connections,
        string? declared = null, bool readOnly = false)
    {
        var ours = new List<FileDescriptor>();
        var theirs = new List<FileDescriptor>();
        int index = -1;
        try
        {
            CreatePairs(connections, ours, theirs);
            index = kernel.Netlink.Connect(new NbdConnectParameters
            {
                SocketFds = theirs.ConvertAll(socket => socket.Value),
                SizeBytes = store.Size,
                BlockSizeBytes = BlockSize,
                ServerFlags = (ushort)NbdExport.FlagsFor(readOnly),
                BackendIdentifier = kernel.BackendIdentifier,
                DeadConnectionTimeout = kernel.ReattachTimeout,
            });

            // Requests the kernel sends before the receivers start wait in the sockets. What a device of this
            // name left (counters, rules) is not this one's.
            statistics.ForgetDevice(NameOf(index));
            kernel.Run.RemoveDeviceFiles(NameOf(index));
            return Serve(kernel, index, store, statistics, (createdFor, declared, readOnly), ours, fresh: true);
        }
        catch
        {
            if (index >= 0)
            {
                _ = kernel.Netlink.Disconnect(index);
            }

            ours.ForEach(socket => socket.Dispose());
            throw;
        }
        finally
        {
            theirs.ForEach(socket => socket.Dispose()); // the kernel keeps its own references to the sockets it took
        }
    }

    /// <summary>
    /// Takes over a device a daemon that is gone served: new sockets in place of its dead ones (NBD_CMD_RECONFIGURE),
    /// its store served on them, its counters counted on. The kernel turns a socket away, without saying so, while
    /// the old one is still alive: each is checked, and asked again while the kernel may not yet have seen the old
    /// daemon's sockets close. The requests that waited then go on; those the old daemon had not answered the
    /// kernel sends again when their timer runs out. On failure the device is left as it was.
    /// </summary>
    /// <exception cref="InvalidOperationException">The kernel kept the old sockets: their daemon is alive (stopped, say).</exception>
    public static ServedDevice Reattach(KernelAttachment kernel, DeviceRecord record, IBackingStore store, ModuleStatistics statistics)
    {
        List<FileDescriptor> accepted = OfferSockets(kernel, record.Index, record.Connections);
        try
        {
            if (accepted.Count == 0)
            {
                throw new InvalidOperationException(
                    $"{record.Name}: the kernel keeps the old daemon's sockets, which are still open: is that daemon stopped rather than gone?");
            }

            if (accepted.Count < record.Connections)
            {
                // The kernel already serves requests on those it took: better some sockets than none.
                kernel.Log($"{record.Name}: {record.Connections - accepted.Count} of its {record.Connections} sockets are still the old daemon's; served on {accepted.Count}");
            }

            ServedDevice device = Serve(kernel, record.Index, store, statistics, OriginOf(record), accepted, fresh: false);
            device.Statistics.RecordTakeover(SysBlock.InFlight(device.Name));
            return device;
        }
        catch
        {
            accepted.ForEach(socket => socket.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Offers the kernel <paramref name="count"/> new sockets for device <paramref name="index"/> (NBD_CMD_RECONFIGURE), each to
    /// take the place of a dead one. The kernel drops a socket it has no dead one for without saying so: each is checked, and
    /// offered again while the kernel may not yet have seen the old ones close (<see cref="ReattachPatience"/>).
    /// </summary>
    /// <returns>Our ends of the sockets the kernel took: <paramref name="count"/> of them, or fewer once its patience ran out.</returns>
    /// <exception cref="NativeException">The kernel refused (EINVAL: the device is not connected, say).</exception>
    private static List<FileDescriptor> OfferSockets(KernelAttachment kernel, int index, int count)
    {
        var accepted = new List<FileDescriptor>();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var ours = new List<FileDescriptor>();
                var theirs = new List<FileDescriptor>();
                CreatePairs(count - accepted.Count, ours, theirs);
                int error = kernel.Netlink.Reconfigure(index, kernel.BackendIdentifier, theirs.ConvertAll(socket => socket.Value), kernel.ReattachTimeout);
                theirs.ForEach(socket => socket.Dispose());
                foreach (FileDescriptor socket in ours)
                {
                    // A socket the kernel took has a peer still: the kernel's reference to the end we closed.
                    if (error == 0 && !Poll.HasHungUp(socket.Value))
                    {
                        accepted.Add(socket);
                    }
                    else
                    {
                        socket.Dispose();
                    }
                }

                if (error != 0)
                {
                    throw new NativeException($"{NameOf(index)}: reconfigure", error);
                }

                if (accepted.Count == count || clock.Elapsed > ReattachPatience)
                {
                    return accepted;
                }

                Thread.Sleep(50);
            }
        }
        catch
        {
            accepted.ForEach(socket => socket.Dispose());
            throw;
        }
    }

    /// <summary>Serves <paramref name="store"/> as device <paramref name="index"/> on <paramref name="sockets"/>, which it then owns.</summary>
    /// <param name="origin">What the device was made for (<see cref="CreatedFor"/>, <see cref="Declared"/>) and whether it is read-only.</param>
    /// <param name="fresh">New counters, with the kernel's as they are now for their baseline; otherwise those kept for the device go on.</param>
    /// <param name="unread">For each socket, bytes already read from it by the daemon that handed it over, or null for none.</param>
    private static ServedDevice Serve(
        KernelAttachment kernel, int index, IBackingStore store, ModuleStatistics statistics, (string? CreatedFor, string? Declared, bool ReadOnly) origin,
        List<FileDescriptor> sockets, bool fresh, IReadOnlyList<byte[]>? unread = null)
    {
        string name = NameOf(index);
        DeviceStatistics deviceStatistics;
        try
        {
            deviceStatistics = statistics.AddDevice(name);
        }
        catch (InvalidDataException exception) when (!fresh)
        {
            kernel.Log($"{name}: its counters start from zero: {exception.Message}");
            statistics.ForgetDevice(name);
            deviceStatistics = statistics.AddDevice(name);
            fresh = true;
        }

        var served = new List<NbdConnection>();
        try
        {
            deviceStatistics.KernelStat = () => SysBlock.Stat(name);
            if (fresh)
            {
                deviceStatistics.Reset();
            }

            var faults = new Faults.DeviceFaults(store.Size, kernel.Run.FaultsFile(name), kernel.Log);
            var export = new NbdExport(store, deviceStatistics, origin.ReadOnly, kernel.Trace, faults);
            foreach (FileDescriptor socket in sockets)
            {
                served.Add(new NbdConnection(ConnectionName(name, served.Count), socket, export, received: unread?[served.Count]));
            }
        }
        catch
        {
            served.ForEach(connection => connection.Dispose()); // each closes its socket
            sockets.Skip(served.Count).ToList().ForEach(socket => socket.Dispose());
            statistics.RemoveDevice(deviceStatistics);
            throw;
        }

        sockets.Clear(); // the connections own them now
        var device = new ServedDevice(kernel, index, origin.CreatedFor, origin.Declared, served);
        served.ForEach(connection => device.Start(connection, kernel.Log));
        return device;
    }

    private static (string? CreatedFor, string? Declared, bool ReadOnly) OriginOf(DeviceRecord record) => (record.CreatedFor, record.Declared, record.ReadOnly);

    private static string ConnectionName(string device, int number) => number == 0 ? device : $"{device}.{number}";

    private void Start(NbdConnection connection, Action<string> log)
    {
        connection.Completion.ContinueWith(
            ended => ReportEnd(connection, ended.Result, log), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        connection.Start();
    }

    private static TimeSpan Max(TimeSpan left, TimeSpan right) => left > right ? left : right;

    private static void CreatePairs(int count, List<FileDescriptor> ours, List<FileDescriptor> theirs)
    {
        for (int i = 0; i < count; i++)
        {
            (FileDescriptor our, FileDescriptor their) = StreamSocket.CreatePair();
            ours.Add(our);
            theirs.Add(their);
        }
    }

    /// <summary>Disconnects the kernel side, waits for the connection to drain, and closes the store.</summary>
    /// <param name="storeInUse">NBD clients still use the store: leave it open.</param>
    /// <param name="deadline">Until when to wait for the store to answer the requests it has begun; those it has not answered by
    /// then the kernel has already failed, and the connections, the store and the counters are closed once it does.</param>
    /// <param name="unanswered">Null, or one line for the user saying that the store did not answer in time, and what that means.</param>
    /// <returns>A problem worth logging, or null.</returns>
    public string? Detach(NbdNetlinkClient netlink, bool storeInUse, DateTime deadline, Action<string> log, out string? unanswered)
    {
        StopReplacing();
        int error = netlink.Disconnect(Index);
        unanswered = Unanswered(deadline, storeInUse, log) is { } late ? $"{late} (failed with EIO); it stays open until it answers" : null;
        if (unanswered is not null)
        {
            return unanswered;
        }

        _connections.ForEach(connection => connection.Dispose());
        if (!storeInUse)
        {
            Export.Store.Dispose();
        }

        string? failure = _connections.Select(connection => connection.Completion.Result).FirstOrDefault(reason => reason is not null);
        return error != 0 ? $"{Name}: disconnect: {Errno.Describe(error)}" : failure is null ? null : $"{Name}: {failure}";
    }

    /// <summary>
    /// Waits until <paramref name="deadline"/> for every connection to end, which it does once the store has answered every
    /// request it began. If one does not (a disk that hangs), leaves them to end in their own time, and then closes the
    /// connections, the store (unless <paramref name="storeInUse"/>) and the counters.
    /// </summary>
    /// <returns>Null when all ended; otherwise what the store did not answer: "nbd1: /dev/sdb did not answer 2 requests in 5 s".</returns>
    private string? Unanswered(DateTime deadline, bool storeInUse, Action<string> log)
    {
        if (_connections.TrueForAll(connection => connection.Completion.Wait(Max(deadline - DateTime.UtcNow, TimeSpan.Zero)) || connection.Drain(AbortGrace)))
        {
            return null;
        }

        long requests = Statistics.Snapshot().TotalInFlight;
        _ = Task.WhenAll(_connections.Select(connection => connection.Completion)).ContinueWith(
            _ =>
            {
                _connections.ForEach(connection => connection.Dispose());
                if (!storeInUse)
                {
                    Export.Store.Dispose();
                }

                Statistics.Dispose();
                log($"{Name}: {Backing} answered at last; closed");
            },
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return $"{Name}: {Backing} did not answer {requests} request{(requests == 1 ? "" : "s")} in {UnansweredTimeout.TotalSeconds:0} s";
    }

    private void ReportEnd(NbdConnection connection, string? reason, Action<string> log)
    {
        if (!_detaching)
        {
            log($"{connection.Name}: the kernel ended the connection{(reason is null ? "" : $": {reason}")}");
            _ = ReplaceAsync(connection, log);
        }
    }
}
