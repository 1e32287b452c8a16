using Dmp.Config;
using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Storage;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>
/// The devices a dmptab declares (<c>dmp load --config</c>): each served as its line says and, unless <c>nodm</c>,
/// mapped by a dm device of its NAME, as <c>dmp create</c> maps one, since nbd indices change from boot to boot and
/// /dev/mapper/NAME does not. <c>dmp reload</c> reads the file again and applies the difference: it adds the lines
/// that are new, removes the devices whose line is gone and replaces those whose line changed, after checking that
/// none it removes is in use, so that it changes everything or nothing. Devices attached or created by hand are not
/// the file's, and stay as they are. A device whose line changed only where it listens (<c>listen=</c>) stays, and
/// only its listener changes; every new address is listened on before anything changes.
/// </summary>
internal sealed partial class DaemonHost
{
    public const string ReloadRequest = "reload";

    private ControlReply Reload()
    {
        if (_options.Config is not { } config)
        {
            return ControlReply.Failure($"dmp was loaded without a dmptab (dmp load --config PATH, or {DmpTab.DefaultPath}): there is nothing to reload");
        }

        // systemd's ExecReload waits for READY=1 after RELOADING=1, whether the reload changed anything or not.
        _notifier.Reloading($"reloading {config}");
        try
        {
            return Apply(config);
        }
        finally
        {
            lock (_lifecycle)
            {
                _notifier.Ready(ServiceStatus());
            }
        }
    }

    /// <summary>Brings the devices declared in <paramref name="config"/> in line with it, or changes nothing and says why.</summary>
    private ControlReply Apply(string config)
    {
        IReadOnlyList<DmpTabEntry> entries = DmpTab.Read(config, _options.Cache, _options.Connections);
        lock (_lifecycle)
        {
            List<ServedDevice> declared = _devices.FindAll(device => device.Declared is not null);
            List<ServedDevice> going = declared.FindAll(device => entries.FirstOrDefault(entry => entry.Name == device.Declared) is not { } entry || !Declares(entry, device));
            List<DmpTabEntry> coming = [.. entries.Where(entry => declared.Find(device => device.Declared == entry.Name) is not { } device || going.Contains(device))];
            List<(ServedDevice Device, DmpTabEntry Entry)> relistening = [.. declared.Except(going)
                .Select(device => (Device: device, Entry: entries.First(entry => entry.Name == device.Declared)))
                .Where(pair => pair.Entry.Listen?.ToString() != _deviceListeners.GetValueOrDefault(pair.Device.Name)?.Address.ToString())];
            if (going.Count == 0 && coming.Count == 0 && relistening.Count == 0)
            {
                return ControlReply.Success("nothing to change");
            }

            using DeviceMapperControl? deviceMapper = going.Exists(HasDeclaredMapping) ? DeviceMapperControl.Open() : DeviceMapperFor(coming);

            // Everything is checked before anything changes: what is in use, dm names taken, backings that do not open.
            foreach (ServedDevice device in going)
            {
                if (InUseBesidesItsMapping(device, deviceMapper) is { } inUse)
                {
                    return ControlReply.Failure($"{device.Declared} is in use: {inUse}; nothing was changed");
                }
            }

            foreach (DmpTabEntry entry in coming.Where(entry => entry.Mapped))
            {
                if (deviceMapper!.Find(entry.Name) is not null && !going.Exists(device => HasDeclaredMapping(device) && device.CreatedFor == entry.Name))
                {
                    return ControlReply.Failure($"{config}:{entry.Line}: device-mapper device {entry.Name} exists already; nothing was changed");
                }
            }

            var opened = new Dictionary<DmpTabEntry, (IBackingStore Store, string? MemoryFile)>();
            var listening = new Dictionary<DmpTabEntry, DeviceListener>();
            var output = new List<string>();
            try
            {
                // An address one of our devices listens on now is listened on again once that device lets go of it.
                HashSet<string> ours = [.. _deviceListeners.Values.Select(listener => listener.Address.ToString())];
                foreach (DmpTabEntry entry in coming.Concat(relistening.Select(pair => pair.Entry)))
                {
                    if (entry.Listen is { } address && !ours.Contains(address.ToString()))
                    {
                        try
                        {
                            listening[entry] = DeviceListener.Listen(address, StartNbdServer);
                        }
                        catch (NativeException exception)
                        {
                            return ControlReply.Failure($"{config}:{entry.Line}: {entry.Name}: {exception.Message}; nothing was changed");
                        }
                    }
                }

                // A backing a going device still holds (a block device is held exclusively) opens once that device is gone.
                foreach (DmpTabEntry entry in coming.Where(entry => !going.Exists(device => device.Backing == entry.Backing.ToString())))
                {
                    try
                    {
                        opened[entry] = OpenDeclared(entry);
                    }
                    catch (InvalidOperationException exception)
                    {
                        return ControlReply.Failure($"{exception.Message}; nothing was changed");
                    }
                }

                foreach (ServedDevice device in going)
                {
                    if ((deviceMapper is null ? null : RemoveDeclaredMapping(device, deviceMapper)) is { } problem ||
                        !TryDetachLocked(device, out problem, output))
                    {
                        throw new InvalidOperationException($"{device.Declared}: {problem}");
                    }

                    if (!entries.Any(entry => entry.Name == device.Declared))
                    {
                        output.Add($"{device.Declared}: removed");
                    }
                }

                foreach ((ServedDevice device, _) in relistening)
                {
                    if (_deviceListeners.Remove(device.Name, out DeviceListener? before))
                    {
                        before.Dispose();
                    }
                }

                foreach (DmpTabEntry entry in coming)
                {
                    (IBackingStore store, string? memoryFile) = opened.Remove(entry, out var early) ? early : OpenDeclared(entry);
                    ServedDevice device = AttachDeclaredLocked(entry, store, memoryFile, deviceMapper, listening.GetValueOrDefault(entry));
                    listening.Remove(entry); // the device's now
                    output.Add($"{entry.Name}: {(going.Exists(gone => gone.Declared == entry.Name) ? "changed" : "added")}: {Details(device)}");
                }

                foreach ((ServedDevice device, DmpTabEntry entry) in relistening)
                {
                    if (entry.Listen is { } address)
                    {
                        ListenLocked(device, entry.Name, address, listening.GetValueOrDefault(entry));
                        listening.Remove(entry);
                    }
                    else
                    {
                        SaveDeviceTable();
                    }

                    output.Add($"{entry.Name}: changed: {Details(device)}");
                }

                return ControlReply.Success(output);
            }
            catch (Exception exception) when (exception is NativeException or InvalidOperationException or IOException)
            {
                // Only a race (something took a device between the check and the change) or a failing kernel gets here.
                return ControlReply.Failure(output.Count == 0 ? exception.Message : $"{exception.Message}; done before it: {string.Join("; ", output)}");
            }
            finally
            {
                foreach ((IBackingStore store, string? memoryFile) in opened.Values)
                {
                    store.Dispose();
                    DeleteMemoryFile(memoryFile);
                }

                foreach (DeviceListener unused in listening.Values)
                {
                    unused.Dispose();
                }
            }
        }
    }

    /// <summary>Device-mapper, loaded if it must be, when one of <paramref name="entries"/> is to be mapped; otherwise null.</summary>
    private static DeviceMapperControl? DeviceMapperFor(IReadOnlyCollection<DmpTabEntry> entries)
    {
        if (!entries.Any(entry => entry.Mapped))
        {
            return null;
        }

        KernelModules.EnsureDeviceMapper();
        return DeviceMapperControl.Open();
    }

    /// <summary>Opens the store a dmptab line declares; a failure names the line.</summary>
    /// <exception cref="InvalidOperationException">The backing does not open.</exception>
    private (IBackingStore Store, string? MemoryFile) OpenDeclared(DmpTabEntry entry)
    {
        string? memoryFile = NewMemoryFile(entry.Backing);
        try
        {
            return (entry.Backing.Open(entry.Size, entry.Cache, entry.ReadOnly, memoryFile), memoryFile);
        }
        catch (Exception exception) when (exception is NativeException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            DeleteMemoryFile(memoryFile);
            throw new InvalidOperationException($"{_options.Config}:{entry.Line}: {entry.Name}: {exception.Message}", exception);
        }
    }

    /// <summary>Serves a dmptab line's store and makes its dm device, as <c>create</c> does. The caller holds <see cref="_lifecycle"/>.</summary>
    /// <param name="deviceMapper">Open when the line is mapped.</param>
    /// <param name="listening">The line's listener, when a reload made it already.</param>
    private ServedDevice AttachDeclaredLocked(
        DmpTabEntry entry, IBackingStore store, string? memoryFile, DeviceMapperControl? deviceMapper, DeviceListener? listening = null)
    {
        ServedDevice device = AttachLocked(store, entry.Mapped ? entry.Name : null, entry.Connections, memoryFile, entry.Name, entry.ReadOnly);
        if (entry.Mapped)
        {
            _ = MapLocked(deviceMapper!, entry.Name, device, (ulong)device.Export.Size / ServedDevice.BlockSize);
        }

        if (entry.Listen is { } address)
        {
            ListenLocked(device, entry.Name, address, listening);
        }

        return device;
    }

    private static bool Declares(DmpTabEntry entry, ServedDevice device) =>
        entry.Declares(device.Backing, device.Export.Size, device.Record.Cache, device.Connections, device.Export.ReadOnly, device.CreatedFor);

    /// <summary>A device a dmptab line declared with the dm device made for it, which goes with it.</summary>
    private static bool HasDeclaredMapping(ServedDevice device) => device.Declared is not null && device.CreatedFor is not null;

    /// <summary>
    /// What keeps a device from being removed: a dm table or mount on it other than the dm device made for its dmptab
    /// line, or that dm device open; null when nothing does.
    /// </summary>
    private static string? InUseBesidesItsMapping(ServedDevice device, DeviceMapperControl? deviceMapper)
    {
        string? own = HasDeclaredMapping(device) ? device.CreatedFor : null;
        string[] others = [.. SysBlock.Holders(device.Name).Where(holder => own is null || SysBlock.DmName(holder) != own)];
        if (others.Length > 0)
        {
            return $"{device.Name} is held by {string.Join(", ", others.Select(DescribeHolder))}";
        }

        if (own is not null && deviceMapper!.Find(own) is { } mapped)
        {
            return mapped.OpenCount > 0 ? $"{MapperPath(own)} is open" : null;
        }

        if (!TryClaim(device, out FileDescriptor? claim, out string inUse))
        {
            return inUse;
        }

        claim?.Dispose();
        return null;
    }

    /// <summary>Removes the dm device made for a device's dmptab line, if it has one.</summary>
    /// <returns>Why it could not be removed, or null.</returns>
    private static string? RemoveDeclaredMapping(ServedDevice device, DeviceMapperControl deviceMapper)
    {
        if (!HasDeclaredMapping(device) || deviceMapper.Find(device.CreatedFor!) is not { } mapped)
        {
            return null;
        }

        int error = deviceMapper.Remove(device.CreatedFor!);
        if (error != 0)
        {
            return error == LibC.EBUSY ? $"device {device.CreatedFor} is in use" : $"remove {device.CreatedFor}: {Errno.Describe(error)}";
        }

        DeviceNodes.RemoveBlockNode(MapperPath(device.CreatedFor!), mapped.Device);
        return null;
    }
}
