using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>Renders an attribute's current text; called at each read from offset 0.</summary>
internal delegate string SysfsShow();

/// <summary>Takes what was written to an attribute; returns 0 or the errno the write(2) fails with.</summary>
internal delegate int SysfsStore(ReadOnlySpan<byte> value);

/// <summary>
/// A sysfs attribute: readable (0444, or 0400 when only root may read it) when it can show, writable by
/// root (0200) when it can store, and, like sysfs, reported as 4096 bytes whatever its text.
/// </summary>
internal sealed class SysfsAttribute : SysfsNode
{
    public const long ReportedSize = 4096;

    private readonly bool _ownerOnly;

    /// <param name="ownerOnly">Only root may read it either (what it shows or takes is root's business, like a dm message).</param>
    public SysfsAttribute(string name, SysfsShow? show = null, SysfsStore? store = null, bool ownerOnly = false)
        : base(name)
    {
        _ownerOnly = ownerOnly;
        if (show is null && store is null)
        {
            throw new ArgumentException("an attribute must be readable or writable", nameof(show));
        }

        Show = show;
        Store = store;
    }

    public SysfsShow? Show { get; }

    public SysfsStore? Store { get; }

    public override uint Mode =>
        (uint)LibC.S_IFREG | (Show is null ? 0 : _ownerOnly ? ReadableByOwner : ReadableByAll) | (Store is null ? 0 : WritableByOwner);
}
