using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Daemon;

internal sealed partial class DaemonHost
{
    public const string UnloadRequest = "unload";

    private string HandleControlRequest(string request) => request switch
    {
        UnloadRequest => Unload(),
        _ => $"{ControlClient.ErrorPrefix}unknown request '{request}'",
    };

    /// <summary>
    /// rmmod: refuses while any device is held (a dm table, a mount), otherwise stops everything.
    /// Each device is claimed exclusively first, like the module refcount check, and the claims are
    /// held through the disconnect, so nothing can grab a device in between.
    /// </summary>
    private string Unload()
    {
        var claims = new List<FileDescriptor>();
        try
        {
            foreach (ServedDevice device in _devices)
            {
                FileDescriptor? claim = FileDescriptor.TryOpen(device.DevicePath, LibC.O_RDONLY | LibC.O_EXCL, out int errno);
                if (claim is null && errno == LibC.EBUSY)
                {
                    return ControlClient.ErrorPrefix + InUseMessage(device.Name);
                }

                if (claim is not null)
                {
                    claims.Add(claim);
                }
            }

            Stop();
        }
        finally
        {
            claims.ForEach(claim => claim.Dispose());
        }

        _stopRequested.Set();
        return ControlClient.Ok;
    }

    /// <summary>Names what holds a device, as rmmod names the modules that use one.</summary>
    private static string InUseMessage(string device)
    {
        string holdersPath = $"/sys/block/{device}/holders";
        string[] holders = Directory.Exists(holdersPath)
            ? Directory.GetFileSystemEntries(holdersPath).Select(Path.GetFileName).OfType<string>().Order().Select(DescribeHolder).ToArray()
            : [];
        return holders.Length > 0
            ? $"module dmp is in use: {device} is held by {string.Join(", ", holders)}"
            : $"module dmp is in use: {device} is open exclusively (mounted?)";
    }

    private static string DescribeHolder(string holder)
    {
        string dmName = $"/sys/block/{holder}/dm/name";
        return File.Exists(dmName) ? $"{holder} ({File.ReadAllText(dmName).Trim()})" : holder;
    }
}
