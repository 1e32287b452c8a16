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
}
