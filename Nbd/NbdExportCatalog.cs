namespace Dmp.Nbd;

/// <summary>
/// The exports a server offers, by name, in the order they were added; the first is the default
/// export (the one an empty name selects). Changed as devices come and go, read by handshakes.
/// </summary>
internal sealed class NbdExportCatalog
{
    private readonly Lock _lock = new();
    private readonly List<(string Name, NbdExport Export)> _exports = [];

    public void Add(string name, NbdExport export)
    {
        lock (_lock)
        {
            _exports.Add((name, export));
        }
    }

    public void Remove(string name)
    {
        lock (_lock)
        {
            _exports.RemoveAll(entry => entry.Name == name);
        }
    }

    /// <summary>The export called <paramref name="name"/>, or the default one for an empty name.</summary>
    public (string Name, NbdExport Export)? Find(string name)
    {
        lock (_lock)
        {
            int index = name.Length == 0 ? 0 : _exports.FindIndex(entry => entry.Name == name);
            return index >= 0 && index < _exports.Count ? _exports[index] : null;
        }
    }

    public IReadOnlyList<(string Name, NbdExport Export)> List()
    {
        lock (_lock)
        {
            return [.. _exports];
        }
    }
}
