namespace Dmp.Sysfs;

/// <summary>A directory or attribute file of the tree; its id is its FUSE node id and inode number.</summary>
internal abstract class SysfsNode
{
    protected const uint ReadableByAll = 0x124; // 0444
    protected const uint ReadableByOwner = 0x100; // 0400
    protected const uint WritableByOwner = 0x80; // 0200

    protected SysfsNode(string name) => Name = name;

    public string Name { get; }

    /// <summary>Assigned when the node joins a <see cref="SysfsTree"/>.</summary>
    public ulong Id { get; internal set; }

    /// <summary>The directory the node is in; null for the root.</summary>
    public SysfsDirectory? Parent { get; internal set; }

    /// <summary>File type and permission bits, as in <c>st_mode</c>.</summary>
    public abstract uint Mode { get; }
}
