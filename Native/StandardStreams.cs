using Tmds.Linux;

namespace Dmp.Native;

/// <summary>Re-points the process's standard descriptors, as a daemon does once it is on its own.</summary>
internal static unsafe class StandardStreams
{
    public const int Input = 0;
    public const int Output = 1;
    public const int Error = 2;

    /// <summary>
    /// Writes straight to a descriptor. Unlike <see cref="Console"/>, which keeps a duplicate of the descriptor
    /// it first writes to, this leaves nothing open that a later <see cref="Redirect"/> would miss.
    /// </summary>
    public static void Write(int fd, string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        fixed (byte* start = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                long written = LibC.write(fd, start + done, bytes.Length - done);
                if (written < 0 && Errno.Last != LibC.EINTR)
                {
                    throw NativeException.FromLast($"write to descriptor {fd}");
                }

                done += (int)Math.Max(0, written);
            }
        }
    }

    /// <summary>Whether <paramref name="fd"/> is open on the file with this device and inode number (as <c>JOURNAL_STREAM</c> names one).</summary>
    public static bool Is(int fd, ulong device, ulong inode)
    {
        stat status;
        return LibC.fstat(fd, &status) == 0 && (ulong)status.st_dev == device && (ulong)status.st_ino == inode;
    }

    /// <summary>Makes each of <paramref name="targets"/> refer to <paramref name="path"/>, opened with <paramref name="flags"/>.</summary>
    public static void Redirect(string path, int flags, params ReadOnlySpan<int> targets)
    {
        using FileDescriptor file = FileDescriptor.Open(path, flags, 0x1a0 /* 0640 */);
        foreach (int target in targets)
        {
            if (LibC.dup2(file.Value, target) < 0)
            {
                throw NativeException.FromLast($"redirect descriptor {target} to {path}");
            }
        }
    }
}
