using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// Open-file-description locks (F_OFD_SETLK): held for as long as the descriptor is open, released by
/// the kernel when its process dies, and never inherited by children.
/// </summary>
internal static unsafe class FileLock
{
    /// <summary>Takes a write lock on the whole file without waiting.</summary>
    /// <returns>False when another open file description holds one.</returns>
    public static bool TryLock(int fd, string path)
    {
        var request = new flock { l_type = (short)LibC.F_WRLCK, l_whence = (short)LibC.SEEK_SET };
        if (LibC.fcntl(fd, LibC.F_OFD_SETLK, &request) == 0)
        {
            return true;
        }

        return Errno.Last == LibC.EAGAIN || Errno.Last == LibC.EACCES ? false : throw NativeException.FromLast($"lock {path}");
    }

    /// <summary>True when some other open file description holds a lock on the file.</summary>
    public static bool IsLocked(int fd, string path)
    {
        var request = new flock { l_type = (short)LibC.F_WRLCK, l_whence = (short)LibC.SEEK_SET };
        return LibC.fcntl(fd, LibC.F_OFD_GETLK, &request) == 0
            ? request.l_type != LibC.F_UNLCK
            : throw NativeException.FromLast($"check the lock on {path}");
    }

    /// <summary>True when <paramref name="fd"/> and <paramref name="path"/> are still the same file (nobody replaced or removed it).</summary>
    public static bool IsSameFile(int fd, string path)
    {
        stat open;
        stat named;
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            return LibC.fstat(fd, &open) == 0 && LibC.stat(name, &named) == 0 &&
                open.st_ino == named.st_ino && open.st_dev == named.st_dev;
        }
    }
}
