using Dmp.Native;
using Dmp.Native.Fuse;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// Serves a <see cref="SysfsTree"/> as a FUSE mount, speaking the /dev/fuse protocol directly.
/// One thread reads requests and answers each before reading the next: the tree is small and
/// every answer is computed in memory. The one exception, a read of a stream with nothing in it
/// yet, is parked and answered later by the same thread (<c>FuseServer.Streams.cs</c>).
/// </summary>
internal sealed partial class FuseServer : IDisposable
{
    private const int RequestBufferSize = 64 * 1024;

    /// <summary>How long the kernel may cache names and attributes: not at all, so that a device's
    /// directory is gone the moment the device is; a lookup costs next to nothing here.</summary>
    private const ulong ValiditySeconds = 0;

    private readonly SysfsTree _tree;
    private readonly FileDescriptor _device;
    private readonly Action<string> _log;
    private readonly Thread _thread;
    private readonly ulong _mountTime = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <param name="device">Where replies go: /dev/fuse once mounted (<see cref="Mount"/>).</param>
    internal FuseServer(string mountPoint, SysfsTree tree, FileDescriptor device, Action<string> log)
    {
        MountPoint = mountPoint;
        _tree = tree;
        _device = device;
        _log = log;
        _thread = new Thread(Serve) { IsBackground = true, Name = "sysfs" };
    }

    public string MountPoint { get; }

    /// <summary>Mounts <paramref name="tree"/> on <paramref name="mountPoint"/> and starts serving it.</summary>
    /// <param name="log">Where problems with requests are reported; the server never stops for them.</param>
    public static FuseServer Mount(string mountPoint, SysfsTree tree, Action<string> log)
    {
        FileDescriptor device = FuseMount.Mount(mountPoint, "dmp");
        var server = new FuseServer(mountPoint, tree, device, log);
        server._thread.Start();
        return server;
    }

    /// <summary>Detaches the mount; the serving thread ends when the kernel lets go of the connection.</summary>
    public void Dispose()
    {
        _streamsEnded = true; // a reader of a stream gets end of file, so that it lets the mount go
        int error = FuseMount.Unmount(MountPoint);
        if (error != 0 && error != LibC.EINVAL)
        {
            _log($"unmount {MountPoint}: {Errno.Describe(error)}");
        }

        // A reader that still holds a file open keeps the connection alive after the detach; closing
        // our end then would strand it, so wait a little and leave the rest to process exit.
        if (_thread.Join(TimeSpan.FromSeconds(2)))
        {
            _device.Dispose();
        }
    }

    private void Serve()
    {
        byte[] buffer = new byte[RequestBufferSize];
        while (true)
        {
            if (UntilParkedReadsAreDue() is var wait && wait != Timeout.InfiniteTimeSpan && !Poll.WaitReadable(_device.Value, wait))
            {
                continue; // no request came: look at the parked reads again
            }

            int error = FuseDevice.ReadRequest(_device.Value, buffer, out int length);
            if (FuseDevice.IsTransient(error))
            {
                continue; // interrupted, or the request was withdrawn before we read it
            }

            if (error != 0)
            {
                if (error != LibC.ENODEV)
                {
                    _log($"read /dev/fuse: {Errno.Describe(error)}");
                }

                return; // ENODEV: unmounted
            }

            if (!Dispatch(buffer.AsSpan(0, length)))
            {
                return;
            }
        }
    }
}
