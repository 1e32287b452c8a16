namespace Dmp.Daemon;

/// <summary>The files a loaded dmp keeps under its run directory (default <c>/run/dmp</c>).</summary>
internal sealed class RunDirectory
{
    public const string DefaultPath = "/run/dmp";

    public RunDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    /// <summary>Holds the daemon's pid, and a lock on it for as long as the daemon lives.</summary>
    public string PidFile => Combine("dmp.pid");

    /// <summary>The daemon's control socket (root only).</summary>
    public string ControlSocket => Combine("control");

    /// <summary>The devices being served, one per line, so that status and clean-up need no daemon.</summary>
    public string DeviceTable => Combine("devices");

    public string LogFile => Combine("dmp.log");

    /// <summary>The daemon's options (the hidden daemon command's arguments, one per line), for the daemon that takes over.</summary>
    public string OptionsFile => Combine("options");

    /// <summary>Where each device's counters are kept, mapped and updated in place, so that they outlive the daemon.</summary>
    public string CountersDirectory => Combine("counters");

    /// <summary>Where memory backings keep their contents, one file per device, so that they outlive the daemon.</summary>
    public string MemoryDirectory => Combine("memory");

    /// <summary>A memory backing's file, by the device's name (or a name of its own until the device has one).</summary>
    public string MemoryFile(string name) => Combine("memory", name);

    /// <summary>Where each device's fault rules are kept, a file per device, so that they outlive the daemon.</summary>
    public string FaultsDirectory => Combine("faults");

    public string FaultsFile(string device) => Combine("faults", device);

    /// <summary>Forgets a device's fault rules and memory backing for good (a device detached, or a new one of its name).</summary>
    public void RemoveDeviceFiles(string device)
    {
        foreach (string path in new[] { FaultsFile(device), MemoryFile(device) })
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>Where the sysfs-like tree is mounted: the counterpart of /sys/module/dmp.</summary>
    public string ModuleMount => Combine("module");

    public string ResetFile => Combine("module", Sysfs.ModuleTree.StatDirectory, Sysfs.ModuleTree.ResetFile);

    /// <summary>The stat tree's <c>devices/</c>, or one device's directory in it.</summary>
    public string DevicesDirectory(string? device = null) =>
        device is null ? Combine("module", Sysfs.ModuleTree.DevicesDirectory) : Combine("module", Sysfs.ModuleTree.DevicesDirectory, device);

    /// <summary>Where the statistics files are: the module's <c>stat/</c>, or one device's directory.</summary>
    public string StatDirectory(string? device = null) =>
        device is null ? Combine("module", Sysfs.ModuleTree.StatDirectory) : DevicesDirectory(device);

    /// <summary>Removes what a daemon keeps here besides its pid file (which it removes last): what a daemon that
    /// takes over would need (devices, options, counters, memory backings, fault rules) and its socket and log.</summary>
    public void RemoveDaemonFiles()
    {
        File.Delete(ControlSocket);
        File.Delete(DeviceTable);
        File.Delete(OptionsFile);
        File.Delete(LogFile);
        foreach (string directory in new[] { CountersDirectory, MemoryDirectory, FaultsDirectory })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        try
        {
            Directory.Delete(ModuleMount);
        }
        catch (IOException)
        {
            // Gone already, or still a busy mount point: `dmp unload --force` deals with the latter.
        }
    }

    /// <summary>Removes the run directory itself once nothing is left in it.</summary>
    public void RemoveIfEmpty()
    {
        if (Directory.Exists(Path) && !Directory.EnumerateFileSystemEntries(Path).Any())
        {
            Directory.Delete(Path);
        }
    }

    private string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
}
