namespace Dmp.Storage;

/// <summary>A BACKING argument: <c>memory</c>, <c>zero</c>, or a path to a file or block device.</summary>
internal sealed record BackingSpec(BackingKind Kind, string? Path)
{
    public static BackingSpec Memory { get; } = new(BackingKind.Memory, null);

    /// <summary>Parses a BACKING argument; relative paths are made absolute against the caller's directory.</summary>
    public static BackingSpec Parse(string text) => text switch
    {
        "memory" => Memory,
        "zero" => new(BackingKind.Zero, null),
        "" => throw new FormatException("a backing cannot be an empty string"),
        _ when text.Contains('\0', StringComparison.Ordinal) => throw new FormatException("a backing's path cannot hold a NUL byte"),
        _ => new(BackingKind.File, System.IO.Path.GetFullPath(text)),
    };

    /// <summary>True for the kinds whose size the user chooses (with --size).</summary>
    public bool IsSized => Kind != BackingKind.File;

    /// <summary>Opens the store; <paramref name="size"/> applies to memory and zero backings, <paramref name="cache"/> to files and devices.</summary>
    /// <param name="readOnly">A file or device is then opened for reading only.</param>
    /// <param name="memoryFile">Where a memory backing keeps its contents (on tmpfs, to outlive the process), or null for the process's own memory.</param>
    public IBackingStore Open(long size, CacheMode cache, bool readOnly = false, string? memoryFile = null) => Kind switch
    {
        BackingKind.Memory => memoryFile is null ? new MemoryStore(size) : MemoryStore.InFile(memoryFile, size),
        BackingKind.Zero => new ZeroStore(size),
        _ => FileStore.Open(Path!, cache, readOnly),
    };

    /// <summary>The argument form, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Kind switch
    {
        BackingKind.Memory => "memory",
        BackingKind.Zero => "zero",
        _ => Path!,
    };
}
