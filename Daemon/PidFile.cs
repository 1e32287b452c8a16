using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// The daemon's pid file. The daemon holds an open-file-description lock on it while it lives, so the
/// lock, not the file's presence, says whether a daemon is running; a daemon that died leaves the file
/// without the lock.
/// </summary>
internal sealed unsafe class PidFile : IDisposable
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
        FileDescriptor fd = FileDescriptor.Open(path, LibC.O_RDWR | LibC.O_CREAT, 0x1a4 /* 0644 */);
        var request = new flock { l_type = (short)LibC.F_WRLCK, l_whence = (short)LibC.SEEK_SET };
        if (LibC.fcntl(fd.Value, LibC.F_OFD_SETLK, &request) != 0)
        {
            int error = Errno.Last;
            fd.Dispose();
            return error == LibC.EAGAIN || error == LibC.EACCES ? null : throw new NativeException($"lock {path}", error);
        }

        if (LibC.ftruncate(fd.Value, 0) != 0)
        {
            fd.Dispose();
            throw NativeException.FromLast($"truncate {path}");
        }

        byte[] pid = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
        fixed (byte* data = pid)
        {
            if (LibC.pwrite(fd.Value, data, pid.Length, 0) != pid.Length)
            {
                fd.Dispose();
                throw NativeException.FromLast($"write {path}");
            }
        }

        return new PidFile(fd, path);
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
            var request = new flock { l_type = (short)LibC.F_WRLCK, l_whence = (short)LibC.SEEK_SET };
            if (LibC.fcntl(fd.Value, LibC.F_OFD_GETLK, &request) != 0)
            {
                throw NativeException.FromLast($"check the lock on {path}");
            }

            byte[] text = new byte[32];
            long length;
            fixed (byte* data = text)
            {
                length = LibC.pread(fd.Value, data, text.Length, 0);
            }

            int pid = length > 0 && int.TryParse(text.AsSpan(0, (int)length).Trim("\n "u8), out int value) ? value : 0;
            return new DaemonState(request.l_type == LibC.F_UNLCK ? DaemonStatus.Dead : DaemonStatus.Running, pid);
        }
    }

    /// <summary>Removes the file, then lets go of the lock: nobody sees a present but unlocked file.</summary>
    public void Dispose()
    {
        File.Delete(_path);
        _fd.Dispose();
    }
}
