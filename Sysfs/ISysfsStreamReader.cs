namespace Dmp.Sysfs;

/// <summary>One open <see cref="SysfsStream"/>: what a read takes from it is gone from it, like a pipe.</summary>
internal interface ISysfsStreamReader : IDisposable
{
    /// <summary>
    /// Whether a read of <paramref name="length"/> bytes would be filled whole now. A read that would not is held
    /// for a moment to gather more, so that a fast stream is read in full buffers rather than a line at a time.
    /// </summary>
    bool CanFill(int length);

    /// <summary>Takes what there is now, up to <paramref name="destination"/>'s length, without waiting.</summary>
    /// <returns>The bytes taken; 0 when there is nothing yet (the read then waits for more).</returns>
    int Read(Span<byte> destination);
}
