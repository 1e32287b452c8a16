using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>What a daemon serves: the load command's arguments, checked.</summary>
/// <param name="Listen">Where NBD clients may connect too (<c>--listen</c>); may be empty.</param>
internal sealed record DaemonOptions(
    IReadOnlyList<BackingSpec> Backings, long Size, RunDirectory RunDirectory, IReadOnlyList<NbdListenAddress> Listen)
{
    /// <summary>The hidden <c>daemon</c> command line that reproduces these options.</summary>
    public IReadOnlyList<string> ToArguments() =>
        ["daemon", "--run-dir", RunDirectory.Path,
            .. Backings.Any(backing => backing.IsSized) ? ["--size", Size.ToString(System.Globalization.CultureInfo.InvariantCulture)] : Array.Empty<string>(),
            .. Listen.SelectMany(address => new[] { "--listen", address.ToString() }),
            "--", .. Backings.Select(backing => backing.ToString())];
}
