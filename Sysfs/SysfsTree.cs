namespace Dmp.Sysfs;

/// <summary>
/// The nodes a <see cref="FuseServer"/> serves, by id. Nodes may be added while the tree is served;
/// the lock keeps the FUSE thread's lookups consistent with that.
/// </summary>
internal sealed class SysfsTree
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, SysfsNode> _nodes = [];
    private ulong _nextId = Native.Fuse.FuseProtocol.RootNodeId;

    public SysfsTree()
    {
        Root = new SysfsDirectory("");
        Register(Root);
    }

    public SysfsDirectory Root { get; }

    /// <summary>Adds <paramref name="child"/> under <paramref name="parent"/> and returns it.</summary>
    public T Add<T>(SysfsDirectory parent, T child)
        where T : SysfsNode
    {
        lock (_lock)
        {
            parent.Add(child);
            Register(child);
        }

        return child;
    }

    /// <summary>Adds (or finds) the directory at a slash-separated path below the root.</summary>
    public SysfsDirectory Directory(string path)
    {
        SysfsDirectory directory = Root;
        foreach (string name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            directory = Lookup(directory, name) as SysfsDirectory ?? Add(directory, new SysfsDirectory(name));
        }

        return directory;
    }

    /// <summary>Removes the entry <paramref name="name"/> of <paramref name="parent"/> and everything below it.</summary>
    public void Remove(SysfsDirectory parent, string name)
    {
        lock (_lock)
        {
            if (parent.Find(name) is { } node)
            {
                parent.Remove(node);
                Unregister(node);
            }
        }
    }

    public SysfsNode? Find(ulong id)
    {
        lock (_lock)
        {
            return _nodes.GetValueOrDefault(id);
        }
    }

    public SysfsNode? Lookup(SysfsDirectory parent, string name)
    {
        lock (_lock)
        {
            Refresh(parent);
            return parent.Find(name);
        }
    }

    /// <summary>A copy of a directory's entries, safe to walk while the tree changes.</summary>
    public SysfsNode[] List(SysfsDirectory directory)
    {
        lock (_lock)
        {
            Refresh(directory);
            return [.. directory.Children];
        }
    }

    /// <summary>Brings a directory of computed links up to date: links that went are removed, new ones added.</summary>
    private void Refresh(SysfsDirectory directory)
    {
        if (directory.Links is null)
        {
            return;
        }

        IReadOnlyList<(string Name, string Target)> links = directory.Links();
        foreach (SysfsNode stale in directory.Children.Where(child => !links.Contains((child.Name, ((SysfsLink)child).Target))).ToList())
        {
            directory.Remove(stale);
            Unregister(stale);
        }

        foreach ((string name, string target) in links.Where(link => directory.Find(link.Name) is null))
        {
            var node = new SysfsLink(name, target);
            directory.Add(node);
            Register(node);
        }
    }

    private void Unregister(SysfsNode node)
    {
        _nodes.Remove(node.Id);
        if (node is SysfsDirectory directory)
        {
            foreach (SysfsNode child in directory.Children)
            {
                Unregister(child);
            }
        }
    }

    private void Register(SysfsNode node)
    {
        node.Id = _nextId++;
        _nodes.Add(node.Id, node);
    }
}
