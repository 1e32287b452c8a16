using System.Runtime.InteropServices;

namespace Dmp.Daemon;

/// <summary>
/// SIGTERM and SIGINT turned into a request to stop in order, which the program waits for (and may
/// also raise itself, as an unload does). SIGUSR1 asks the same, but to leave the devices as they are for
/// the next daemon to take over (<see cref="LetGo"/>): what systemd sends when <c>systemctl stop</c> could
/// not unload because a device is in use.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    /// <summary>SIGUSR1, which .NET has no name for.</summary>
    private const PosixSignal LetGoSignal = (PosixSignal)10;

    private readonly ManualResetEventSlim _stop = new();
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _letGo;
    private volatile bool _letGoRequested;

    public StopSignals()
    {
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _letGo = PosixSignalRegistration.Create(LetGoSignal, OnSignal);
    }

    /// <summary>True when the stop came from SIGUSR1: exit without disconnecting anything.</summary>
    public bool LetGo => _letGoRequested;

    public void Request() => _stop.Set();

    /// <summary>Waits for a stop; true once one came, false if <paramref name="timeout"/> passed first.</summary>
    public bool Wait(TimeSpan timeout) => _stop.Wait(timeout);

    public void Wait() => _stop.Wait();

    public void Dispose()
    {
        _terminate.Dispose();
        _interrupt.Dispose();
        _letGo.Dispose();
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // stop in order rather than die
        _letGoRequested |= context.Signal == LetGoSignal;
        _stop.Set();
    }
}
