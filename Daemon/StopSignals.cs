using System.Runtime.InteropServices;

namespace Dmp.Daemon;

/// <summary>
/// SIGTERM and SIGINT turned into a request to stop in order, which the program waits for (and may
/// also raise itself, as an unload does).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly ManualResetEventSlim _stop = new();
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _interrupt;

    public StopSignals()
    {
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    public void Request() => _stop.Set();

    /// <summary>Waits for a stop; true once one came, false if <paramref name="timeout"/> passed first.</summary>
    public bool Wait(TimeSpan timeout) => _stop.Wait(timeout);

    public void Wait() => _stop.Wait();

    public void Dispose()
    {
        _terminate.Dispose();
        _interrupt.Dispose();
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // stop in order rather than die
        _stop.Set();
    }
}
