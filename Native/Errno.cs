using System.Runtime.InteropServices;

namespace Dmp.Native;

/// <summary>The one place that reads errno and turns it into text.</summary>
internal static partial class Errno
{
    /// <summary>Above every errno Linux defines (EHWPOISON is 133).</summary>
    private const int Limit = 256;

    /// <summary>errno of the last P/Invoke on this thread (Tmds.LibC and our own imports both capture it).</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>0 when a call that returns -1 on failure succeeded (<paramref name="result"/> &gt;= 0), otherwise its errno.</summary>
    public static int Of(long result) => result < 0 ? Last : 0;

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>The errno's symbolic name, as C spells it ("EIO"), or its number when the C library has no name for it.</summary>
    public static string NameOf(int errno) =>
        Marshal.PtrToStringUTF8(StrErrorName(errno)) ?? errno.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The errno a symbolic name stands for ("EIO", in any case), by the C library's own names.</summary>
    /// <returns>False when no errno has that name.</returns>
    public static bool TryParse(string name, out int errno)
    {
        // Names that share a number with another, which is the one the C library gives.
        name = name.ToUpperInvariant() switch
        {
            "ENOTSUP" => "EOPNOTSUPP",
            "EWOULDBLOCK" => "EAGAIN",
            "EDEADLOCK" => "EDEADLK",
            _ => name,
        };
        for (errno = 1; errno < Limit; errno++)
        {
            if (Marshal.PtrToStringUTF8(StrErrorName(errno)) is string known && known.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        errno = 0;
        return false;
    }

    /// <summary>glibc 2.32's <c>strerrorname_np</c>: the name of an errno, or NULL for a number that is none.</summary>
    [LibraryImport("libc", EntryPoint = "strerrorname_np")]
    private static partial nint StrErrorName(int errno);
}
