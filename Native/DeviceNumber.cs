namespace Dmp.Native;

/// <summary>A device number (<c>dev_t</c>) split into major and minor, encoded as glibc and the kernel do.</summary>
internal readonly record struct DeviceNumber(uint Major, uint Minor)
{
    public static DeviceNumber Decode(ulong dev) => new(
        (uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & 0xfffff000)),
        (uint)((dev & 0xff) | ((dev >> 12) & 0xffffff00)));

    public ulong Encode() =>
        ((ulong)(Major & 0xfffff000) << 32) | ((ulong)(Major & 0xfff) << 8) |
        ((ulong)(Minor & 0xffffff00) << 12) | (Minor & 0xff);

    /// <summary>"MAJOR:MINOR", as /sys and device-mapper tables write it.</summary>
    public override string ToString() => $"{Major}:{Minor}";
}
