using Tmds.Linux;

namespace Dmp.Native.Fuse;

/// <summary>Mounts a FUSE file system served through a /dev/fuse descriptor, without libfuse.</summary>
internal static unsafe class FuseMount
{
    /// <summary>
    /// Opens /dev/fuse and mounts <paramref name="target"/> as <c>fuse.NAME</c>. The kernel checks
    /// permissions itself (<c>default_permissions</c>), and every user may look (<c>allow_other</c>).
    /// </summary>
    /// <returns>The descriptor to serve requests from.</returns>
    public static FileDescriptor Mount(string target, string name)
    {
        FileDescriptor device = FileDescriptor.Open("/dev/fuse", LibC.O_RDWR);

        string options = $"fd={device.Value},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
        fixed (byte* source = NativeString.NullTerminated(name))
        fixed (byte* mountPoint = NativeString.NullTerminated(target))
        fixed (byte* type = NativeString.NullTerminated("fuse." + name))
        fixed (byte* data = NativeString.NullTerminated(options))
        {
            if (LibC.mount(source, mountPoint, type, LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC, data) != 0)
            {
                var error = NativeException.FromLast($"mount {target}");
                device.Dispose();
                throw error;
            }
        }

        return device;
    }

    /// <summary>Detaches the mount at once; the connection ends when its last user lets go.</summary>
    /// <returns>0, or errno (EINVAL: nothing is mounted there).</returns>
    public static int Unmount(string target)
    {
        fixed (byte* mountPoint = NativeString.NullTerminated(target))
        {
            return Errno.Of(LibC.umount2(mountPoint, LibC.MNT_DETACH));
        }
    }
}
