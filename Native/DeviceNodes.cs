using Tmds.Linux;

namespace Dmp.Native;

/// <summary>Block device nodes, made by hand where no udev runs (as libdevmapper does with DM_DISABLE_UDEV).</summary>
internal static unsafe class DeviceNodes
{
    private const int BlockNodeMode = 0x6000 | 0x1b0; // S_IFBLK | 0660, root:disk like udev's

    /// <summary>
    /// Makes <paramref name="path"/> a block node for <paramref name="device"/>, unless it already leads there
    /// (udev's symlink, say); whatever else stands at the path (a stale node of an earlier device) is replaced.
    /// </summary>
    public static void EnsureBlockNode(string path, DeviceNumber device)
    {
        if (NumberOf(path) == device)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            _ = LibC.unlink(name);
            if (LibC.mknod(name, (mode_t)BlockNodeMode, (dev_t)device.Encode()) != 0)
            {
                throw NativeException.FromLast($"mknod {path}");
            }

            // Set explicitly: mknod's mode passes through the umask.
            _ = LibC.chmod(name, (mode_t)(BlockNodeMode & 0xfff));
            _ = LibC.lchown(name, (uid_t)0, (gid_t)DiskGroup());
        }
    }

    /// <summary>Removes <paramref name="path"/> if it is the node of <paramref name="device"/> (and not, say, udev's symlink to a new one).</summary>
    public static void RemoveBlockNode(string path, DeviceNumber device)
    {
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            stat status;
            if (LibC.lstat(name, &status) == 0 && LibC.S_ISBLK(status.st_mode) && DeviceNumber.Decode(status.st_rdev) == device)
            {
                _ = LibC.unlink(name);
            }
        }
    }

    /// <summary>The device a block node (or a symlink to one) stands for; null if there is none.</summary>
    public static DeviceNumber? NumberOf(string path)
    {
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            stat status;
            return LibC.stat(name, &status) == 0 && LibC.S_ISBLK(status.st_mode) ? DeviceNumber.Decode(status.st_rdev) : null;
        }
    }

    private static uint DiskGroup()
    {
        const uint conventionalDiskGid = 6;
        string? line = File.Exists("/etc/group")
            ? File.ReadLines("/etc/group").FirstOrDefault(entry => entry.StartsWith("disk:", StringComparison.Ordinal))
            : null;
        return line?.Split(':') is [_, _, string gid, ..] && uint.TryParse(gid, out uint value) ? value : conventionalDiskGid;
    }
}
