using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Dmp.Faults;
using Dmp.Native;
using Dmp.Native.Fuse;
using Dmp.Stats;
using Dmp.Sysfs;
using Dmp.Trace;
using Tmds.Linux;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// FUSE requests as the kernel hands them to the stat tree: the input is a run of requests, each a
/// <c>fuse_in_header</c> whose length says where the next begins (the last takes what is left, whatever its
/// header says), dispatched one by one to a <see cref="FuseServer"/> serving the daemon's tree with one device.
/// Its replies go to /dev/null. The server answers a request that throws with EIO and logs it: that log is a finding,
/// since every request, however odd, should get its proper answer.
/// </summary>
internal static class FuseTarget
{
    private static readonly FileDescriptor Replies = FileDescriptor.Open("/dev/null", LibC.O_WRONLY);
    private static readonly ModuleStatistics Statistics = new();
    private static readonly DeviceStatistics Device = Statistics.AddDevice("dmp0");

    public static void Run(ReadOnlySpan<byte> input)
    {
        var trace = new TraceHub();
        var refusals = new List<string>();
        var tree = new ModuleTree(Statistics, [("size", "1024")], () => [("dm-0", "../../dm-0")], Statistics.Reset, trace, refusals.Add);
        tree.AddDevice(new DeviceFiles(Device, new DeviceFaults(1 << 20), "memory", 1 << 20, () => "0 0 0 0 0 0 0 0 0 0 0\n", () => [], Device.Reset));
        var failures = new List<string>();
        var server = new FuseServer("/fuzz", tree.Tree, Replies, failures.Add); // never mounted, never disposed: nothing to unmount
        int headerLength = Unsafe.SizeOf<FuseInHeader>();
        while (!input.IsEmpty)
        {
            int length = input.Length;
            if (input.Length >= headerLength && MemoryMarshal.Read<FuseInHeader>(input).Length is uint declared &&
                declared >= headerLength && declared < input.Length)
            {
                length = (int)declared;
            }

            bool goesOn = server.Dispatch(input[..length]);
            if (failures.Find(line => line.StartsWith("FUSE ", StringComparison.Ordinal)) is { } failure)
            {
                throw new FuzzFindingException(failure);
            }

            if (!goesOn)
            {
                return; // DESTROY: the kernel sends nothing after it
            }

            input = input[length..];
        }
    }
}
