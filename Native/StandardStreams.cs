using Tmds.Linux;

namespace Dmp.Native;

/// <summary>Re-points the process's standard descriptors, as a daemon does once it is on its own.</summary>
internal static class StandardStreams
{
    public const int Input = 0;
    public const int Output = 1;
    public const int Error = 2;

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
