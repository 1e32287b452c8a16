using Dmp.Faults;
using Dmp.Stats;

namespace Dmp.Sysfs;

/// <summary>What <c>devices/NAME/</c> shows about one served device besides its counters.</summary>
/// <param name="Baseline">The kernel's /sys/block/NAME/stat when the counters were last zeroed; null for a device the kernel does not have.</param>
/// <param name="Holders">The device-mapper devices on it, as links to /sys/block/dm-N; null for none possible.</param>
/// <param name="Reset">Zeroes the device's counters (and, for a kernel device, takes a new baseline).</param>
/// <param name="Faults">Its fault rules, which <c>faults</c> lists and takes.</param>
internal sealed record DeviceFiles(
    DeviceStatistics Statistics,
    DeviceFaults Faults,
    string Backing,
    long Size,
    Func<string>? Baseline,
    Func<IReadOnlyList<(string Name, string Target)>>? Holders,
    Action Reset);
