using Dmp.Nbd;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Fuzz.Targets;

/// <summary>Fresh exports for one input, so that no input sees what an earlier one wrote: small, to reach their ends.</summary>
internal sealed class NbdExports : IDisposable
{
    /// <summary>Small enough that offsets past the end are easy to hit; a few pages so that ranges within are too.</summary>
    public const long Size = 64 * 1024;

    private static readonly ModuleStatistics Statistics = new();
    private static readonly DeviceStatistics Writable = Statistics.AddDevice("fuzz");
    private static readonly DeviceStatistics ReadOnly = Statistics.AddDevice("fuzz-ro");

    private readonly MemoryStore _memory = new(Size);

    public NbdExports()
    {
        Memory = new NbdExport(_memory, Writable);
        Zero = new NbdExport(new ZeroStore(Size), ReadOnly, readOnly: true);
        Catalog.Add("export0", Memory);
        Catalog.Add("export1", Zero);
    }

    /// <summary>Named as <c>dmp serve</c> names its exports: "export0" (the default, a memory store) and "export1" (read-only zeroes).</summary>
    public NbdExportCatalog Catalog { get; } = new();

    public NbdExport Memory { get; }

    public NbdExport Zero { get; }

    public void Dispose()
    {
        _memory.Dispose();
        Zero.Store.Dispose();
    }
}
