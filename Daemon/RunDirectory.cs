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

    /// <summary>Where the sysfs-like tree is mounted: the counterpart of /sys/module/dmp.</summary>
    public string ModuleMount => Combine("module");

    public string ResetFile => Combine("module", Sysfs.ModuleTree.StatDirectory, Sysfs.ModuleTree.ResetFile);

    /// <summary>The stat tree's <c>devices/</c>, or one device's directory in it.</summary>
    public string DevicesDirectory(string? device = null) =>
        device is null ? Combine("module", Sysfs.ModuleTree.DevicesDirectory) : Combine("module", Sysfs.ModuleTree.DevicesDirectory, device);

    /// <summary>Where the statistics files are: the module's <c>stat/</c>, or one device's directory.</summary>
    public string StatDirectory(string? device = null) =>
        device is null ? Combine("module", Sysfs.ModuleTree.StatDirectory) : DevicesDirectory(device);

    /// <summary>Removes what a daemon keeps here besides its pid file (which it removes last).</summary>
    public void RemoveDaemonFiles()
    {
        File.Delete(ControlSocket);
        File.Delete(DeviceTable);
        File.Delete(LogFile);
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
