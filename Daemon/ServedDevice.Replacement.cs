using Dmp.Nbd;
using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>
/// A socket the kernel gave up, replaced. On a device with several sockets the kernel gives one up for good when a
/// request on it outlives its timer (30 s unless set): it shuts that socket down and sends the socket's requests again
/// on the others, or, when it has given them all up (a disk that stalls past the timer), holds them until a socket
/// comes back (NBD_ATTR_DEAD_CONN_TIMEOUT). Left alone, the device would serve on one socket fewer, or fail its IO
/// once that timeout runs out; so the daemon hands the kernel a new socket in the old one's place
/// (NBD_CMD_RECONFIGURE), as a daemon taking over does. What tells this from a disconnect is NBD_CMD_DISC: the kernel
/// sends it on each live socket when the device is disconnected, and never when it gives a socket up.
/// </summary>
internal sealed partial class ServedDevice
{
    /// <summary>How long a connection that ended waits before it is replaced: long enough for the others to end too when the
    /// device is disconnected (<c>nbd-client -d</c>, say), one of them with NBD_CMD_DISC, in which case nothing is replaced.</summary>
    private static readonly TimeSpan ReplaceDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Stops connections being replaced: from here on the list no longer changes (a replacement being put in
    /// place is waited for; one still offering its socket to the kernel closes that socket instead).</summary>
    private void StopReplacing()
    {
        lock (_connectionsLock)
        {
            _detaching = true;
        }
    }

    /// <summary>The end of a line saying a socket was not replaced.</summary>
    private string WhatServes => EveryConnectionEnded ? $"{Name} no longer serves IO" : $"{Name} serves IO on the others";

    private async Task ReplaceAsync(NbdConnection ended, Action<string> log)
    {
        await Task.Delay(ReplaceDelay).ConfigureAwait(false);
        int number;
        lock (_connectionsLock)
        {
            number = _connections.IndexOf(ended);
            if (_detaching || number < 0)
            {
                return;
            }

            if (_connections.Exists(connection => connection.DisconnectRequested))
            {
                if (!_disconnectLogged)
                {
                    _disconnectLogged = true;
                    log($"{Name}: disconnected (the kernel sent NBD_CMD_DISC); the device no longer serves IO");
                }

                return;
            }
        }

        try
        {
            // The kernel sends the requests that were in flight on that socket again on another: one answered (and counted)
            // there is counted twice, as when a daemon takes over (dmp check says so).
            Statistics.RecordTakeover(ended.RepliesLost);
            List<FileDescriptor> offered = OfferSockets(_kernel, Index, 1);
            if (offered.Count == 0)
            {
                log($"{ended.Name}: not replaced: the kernel took no new socket in its place; {WhatServes}");
                return;
            }

            NbdConnection? replacement = null;
            lock (_connectionsLock)
            {
                if (!_detaching)
                {
                    replacement = new NbdConnection(ended.Name, offered[0], Export);
                    _connections[number] = replacement;
                    Start(replacement, log);
                }
            }

            if (replacement is null)
            {
                offered[0].Dispose();
                return;
            }

            ended.Dispose();
            log($"{ended.Name}: replaced: the kernel took a new socket in its place");
        }
        catch (Exception exception)
        {
            // The daemon serves on without it (netlink closed by an unload under way, say).
            log($"{ended.Name}: not replaced: {exception.Message}; {WhatServes}");
        }
    }
}
