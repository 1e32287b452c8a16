using System.Text;

namespace Dmp.Native;

/// <summary>Strings as the kernel takes them: UTF-8 with a terminating NUL.</summary>
internal static class NativeString
{
    public static byte[] NullTerminated(string value)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>The string up to the first NUL (or the whole span when it has none).</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes);
    }
}
