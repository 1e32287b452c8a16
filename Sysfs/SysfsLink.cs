using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>A symbolic link, as sysfs uses them for <c>holders/</c> entries.</summary>
internal sealed class SysfsLink : SysfsNode
{
    private const uint Permissions = 0x1ff; // 0777, as every symlink

    public SysfsLink(string name, string target)
        : base(name) => Target = target;

    public string Target { get; }

    public override uint Mode => (uint)LibC.S_IFLNK | Permissions;
}
