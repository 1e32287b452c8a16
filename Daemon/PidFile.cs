using System.Globalization;
using System.Text;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// The daemon's pid file. The daemon holds a lock on it while it lives (<see cref="FileLock"/>), so the
/// lock, not the file's presence, says whether a daemon is running; a daemon that died leaves the file
/// without the lock.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private readonly FileDescriptor _fd;
    private readonly string _path;

    private PidFile(FileDescriptor fd, string path)
    {
        _fd = fd;
        _path = path;
    }

    /// <summary>Creates and locks the pid file for this process.</summary>
    /// <returns>Null when another live daemon holds it.</returns>
    public static PidFile? TryAcquire(string path)
    {
        while (true)
        {
            FileDescriptor fd = FileDescriptor.Open(path, LibC.O_RDWR | LibC.O_CREAT, 0x1a4 /* 0644 */);
            try
            {
                if (!FileLock.TryLock(fd.Value, path))
                {
                    fd.Dispose();
                    return null;
                }

                // A daemon that was exiting may have removed the file between our open and our lock: then
                // the lock guards a file nobody else can find, so start again with the file at the path.
                if (!FileLock.IsSameFile(fd.Value, path))
                {
                    fd.Dispose();
                    continue;
                }

                byte[] pid = Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
                int error = PositionalIo.Truncate(fd.Value, 0);
                error = error == 0 ? PositionalIo.Write(fd.Value, pid, 0) : error;
                return error == 0 ? new PidFile(fd, path) : throw new NativeException($"write {path}", error);
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }
    }

    /// <summary>Looks at a pid file without taking it.</summary>
    public static DaemonState Probe(string path)
    {
        FileDescriptor? fd = FileDescriptor.TryOpen(path, LibC.O_RDONLY, out int errno);
        if (fd is null)
        {
            return errno == LibC.ENOENT ? new DaemonState(DaemonStatus.NotLoaded, 0) : throw new NativeException($"open {path}", errno);
        }

        using (fd)
        {
            bool locked = FileLock.IsLocked(fd.Value, path);
            byte[] text = new byte[32];
            int pid = PositionalIo.Read(fd.Value, text, 0) == 0 &&
                int.TryParse(Encoding.ASCII.GetString(text).TrimEnd('\0').Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
                ? value
                : 0;
            return new DaemonState(locked ? DaemonStatus.Running : DaemonStatus.Dead, pid);
        }
    }

    /// <summary>Removes the file, then lets go of the lock: nobody sees a present but unlocked file.</summary>
    public void Dispose()
    {
        File.Delete(_path);
        _fd.Dispose();
    }

    /// <summary>Lets go of the lock and leaves the file: what a daemon that died leaves, for the next one to take over.</summary>
    public void Abandon() => _fd.Dispose();
}
