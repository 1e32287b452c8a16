using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>
/// <c>dmp restart</c>: a new daemon takes over from a running one with no IO error and no stall. The old one stops
/// each connection before the next request it has not begun, once every request it began is answered, and passes
/// its sockets (SCM_RIGHTS, in its reply to the new one's <see cref="HandOverRequest"/>), with the bytes of requests
/// it read and did not serve, then lets go of everything else and exits without disconnecting anything. The new
/// one waits for the old one's pid lock, and goes on serving the same sockets: the kernel sees nothing happen, and
/// its requests meanwhile wait in the sockets.
/// </summary>
internal sealed partial class DaemonHost
{
    public const string HandOverRequest = "hand-over";

    /// <summary>How long the old daemon gives its requests in flight to finish (a device that hangs keeps it serving).</summary>
    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the new daemon waits for the old one to let go of the run directory once it handed over.</summary>
    private static readonly TimeSpan HandOverExitTimeout = TimeSpan.FromSeconds(30);

    private const string NothingUnread = "-";

    /// <summary>Set once this daemon handed its devices over: it then stops without disconnecting them.</summary>
    private volatile bool _handedOver;

    /// <summary>The old daemon's side: stops every connection, and replies with their sockets; or, if one does not stop
    /// in time, resumes them all and says why.</summary>
    private ControlReply HandOver()
    {
        lock (_lifecycle)
        {
            if (_stopped)
            {
                return ControlReply.Failure("dmp is being unloaded");
            }

            int sockets = _devices.Sum(device => device.Connections);
            if (sockets > DescriptorPassing.MaxDescriptors)
            {
                return ControlReply.Failure($"{sockets} sockets are more than one hand-over carries ({DescriptorPassing.MaxDescriptors})");
            }

            _devices.ForEach(device => device.BeginHandOver());
            DateTime deadline = DateTime.UtcNow + HandOverTimeout;
            if (!_devices.TrueForAll(device => device.AwaitHandOver(deadline)))
            {
                _devices.ForEach(device => device.Resume(DaemonLog.Warning));
                return ControlReply.Failure($"requests still running after {HandOverTimeout.TotalSeconds} s (a backing that hangs?): nothing was handed over");
            }

            var lines = new List<string>();
            var descriptors = new List<FileDescriptor>();
            foreach (ServedDevice device in _devices)
            {
                foreach ((FileDescriptor socket, byte[] unread) in device.HandOverSockets())
                {
                    lines.Add($"{device.Name} {(unread.Length == 0 ? NothingUnread : Convert.ToBase64String(unread))}");
                    descriptors.Add(socket);
                }
            }

            _handedOver = true;
            DaemonLog.Info($"handed over {descriptors.Count} sockets of {_devices.Count} devices to the new daemon");
            _stopSignals.Request();
            return new ControlReply(lines, null, descriptors);
        }
    }

    /// <summary>The new daemon's side: asks the running one for its devices' sockets.</summary>
    /// <returns>Each device's sockets, in order, with what was read of each and not served.</returns>
    /// <exception cref="InvalidOperationException">The running daemon did not hand over, and serves on; the message says why.</exception>
    private static Dictionary<string, (List<FileDescriptor> Sockets, List<byte[]> Unread)> ReceiveHandOver(RunDirectory run)
    {
        ControlReply reply = ControlClient.SendForDescriptors(run.ControlSocket, [HandOverRequest], HandOverTimeout + TimeSpan.FromSeconds(10))
            ?? throw new InvalidOperationException("the running daemon does not answer");
        IReadOnlyList<FileDescriptor> descriptors = reply.Descriptors ?? [];
        if (!reply.Succeeded || reply.Output.Count != descriptors.Count)
        {
            foreach (FileDescriptor descriptor in descriptors)
            {
                descriptor.Dispose();
            }

            throw new InvalidOperationException(reply.Error ?? $"the running daemon handed over {descriptors.Count} sockets for {reply.Output.Count} lines");
        }

        var devices = new Dictionary<string, (List<FileDescriptor> Sockets, List<byte[]> Unread)>();
        for (int line = 0; line < reply.Output.Count; line++)
        {
            string[] fields = reply.Output[line].Split(' ');
            if (!devices.TryGetValue(fields[0], out var device))
            {
                devices[fields[0]] = device = ([], []);
            }

            device.Sockets.Add(descriptors[line]);
            device.Unread.Add(fields[1] == NothingUnread ? [] : Convert.FromBase64String(fields[1]));
        }

        return devices;
    }

    /// <summary>Takes the pid file once the daemon that handed over has let go of it.</summary>
    private PidFile AwaitPidFile()
    {
        DateTime deadline = DateTime.UtcNow + HandOverExitTimeout;
        while (true)
        {
            if (PidFile.TryAcquire(_run.PidFile) is { } pidFile)
            {
                return pidFile;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the daemon that handed over did not exit within {HandOverExitTimeout.TotalSeconds} s");
            }

            Thread.Sleep(10);
        }
    }
}
