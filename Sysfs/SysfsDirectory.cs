using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>A directory: a named list of nodes. Changed only through <see cref="SysfsTree"/>, under its lock.</summary>
internal sealed class SysfsDirectory : SysfsNode
{
    private const uint Permissions = 0x1ed; // 0755

    private readonly List<SysfsNode> _children = [];

    public SysfsDirectory(string name)
        : base(name)
    {
    }

    /// <summary>
    /// Makes this a directory of links computed when it is looked in (like <c>holders/</c>, which changes
    /// as device-mapper devices come and go outside dmp): name and target of each.
    /// </summary>
    public Func<IReadOnlyList<(string Name, string Target)>>? Links { get; init; }

    public override uint Mode => (uint)LibC.S_IFDIR | Permissions;

    public IReadOnlyList<SysfsNode> Children => _children;

    public SysfsNode? Find(string name) => _children.Find(child => child.Name == name);

    internal void Add(SysfsNode child)
    {
        if (Find(child.Name) is not null)
        {
            throw new InvalidOperationException($"{Name}/{child.Name} already exists");
        }

        _children.Add(child);
        child.Parent = this;
    }

    internal void Remove(SysfsNode child)
    {
        _children.Remove(child);
        child.Parent = null;
    }
}
