using System.Runtime.InteropServices;

namespace Dmp.Native;

/// <summary><c>struct pollfd</c>: a descriptor, the events asked for, and those that happened.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollDescriptor
{
    public int Descriptor;
    public short Events;
    public short ReturnedEvents;
}
