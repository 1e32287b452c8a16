using System.Runtime.InteropServices;

namespace Dmp.Native;

/// <summary>The one place that reads errno and turns it into text.</summary>
internal static class Errno
{
    /// <summary>errno of the last P/Invoke on this thread (Tmds.LibC and our own imports both capture it).</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>0 when a call that returns -1 on failure succeeded (<paramref name="result"/> &gt;= 0), otherwise its errno.</summary>
    public static int Of(long result) => result < 0 ? Last : 0;

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
