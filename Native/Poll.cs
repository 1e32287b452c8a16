using Tmds.Linux;

namespace Dmp.Native;

/// <summary><c>poll(2)</c>: waiting for descriptors to become readable.</summary>
internal static unsafe partial class Poll
{
    /// <summary>Waits until <paramref name="fd"/> is readable (or hung up: the next read says how) or <paramref name="timeout"/> passes.</summary>
    /// <returns>False when the time passed first (or a signal came).</returns>
    public static bool WaitReadable(int fd, TimeSpan timeout)
    {
        var descriptor = new PollDescriptor { Descriptor = fd, Events = (short)LibC.POLLIN };
        return PollDescriptors(&descriptor, 1, (int)Math.Ceiling(timeout.TotalMilliseconds)) > 0;
    }

    /// <summary>Waits, as long as it takes, until <paramref name="first"/> or <paramref name="second"/> is readable (or hung up).</summary>
    /// <returns>Whether the second is (what woke the call; false as well after a signal).</returns>
    public static bool WaitEitherReadable(int first, int second)
    {
        PollDescriptor* descriptors = stackalloc PollDescriptor[2];
        descriptors[0] = new PollDescriptor { Descriptor = first, Events = (short)LibC.POLLIN };
        descriptors[1] = new PollDescriptor { Descriptor = second, Events = (short)LibC.POLLIN };
        return PollDescriptors(descriptors, 2, -1) > 0 && descriptors[1].ReturnedEvents != 0;
    }

    /// <summary>Whether a stream socket's peer has closed its end (POLLRDHUP or POLLHUP), waiting no longer than <paramref name="patience"/> for it.</summary>
    public static bool HasHungUp(int fd, int patience = 20)
    {
        var descriptor = new PollDescriptor { Descriptor = fd, Events = (short)LibC.POLLRDHUP };
        return PollDescriptors(&descriptor, 1, patience) > 0 && (descriptor.ReturnedEvents & (LibC.POLLRDHUP | LibC.POLLHUP)) != 0;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int PollDescriptors(PollDescriptor* descriptors, ulong count, int timeoutMilliseconds);
}
