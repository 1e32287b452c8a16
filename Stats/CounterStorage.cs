using Dmp.Native;

namespace Dmp.Stats;

/// <summary>
/// Where counters live: in the process's own memory (<c>dmp serve</c>, tests), or in files in a directory on tmpfs
/// (the run directory under <c>dmp load</c>), where they outlive the daemon for the next one to count on.
/// </summary>
internal sealed class CounterStorage
{
    private readonly string? _directory;

    private CounterStorage(string? directory) => _directory = directory;

    public static CounterStorage InMemory { get; } = new(null);

    public static CounterStorage InDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        return new CounterStorage(directory);
    }

    /// <summary>Memory for <paramref name="name"/>'s counters: zeroed when new, as left by the last daemon when not.</summary>
    /// <param name="created">False when the counters were there already.</param>
    public MappedMemory Map(string name, long size, out bool created)
    {
        if (_directory is null)
        {
            created = true;
            return MappedMemory.Reserve(size);
        }

        return MappedMemory.MapFile(Path.Combine(_directory, name), size, out created);
    }

    /// <summary>Forgets <paramref name="name"/>'s counters for good.</summary>
    public void Delete(string name)
    {
        if (_directory is not null)
        {
            File.Delete(Path.Combine(_directory, name));
        }
    }
}
