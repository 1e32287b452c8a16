using Dmp.Nbd;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Tests.Nbd;

/// <summary>
/// A connection handed over (as <c>dmp restart</c> does): the receiver stops at a request boundary once every request it
/// began is answered, and another connection goes on with the same socket and what was read of it, on every request path.
/// </summary>
public sealed class NbdConnectionHandOverTests
{
    private const long Size = 64 << 20;

    public static TheoryData<string> Backings => [.. ServedConnection.Backings];

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_connection_handed_over_goes_on_in_another_with_no_request_lost_or_answered_twice(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        const int count = 256;
        for (int i = 0; i < count / 2; i++)
        {
            client.Send(NbdCommand.Write, (ulong)i, (ulong)i * 4096, 4096, Pattern(i));
        }

        served.Connection.RequestHandOver();

        // The client goes on sending (as the kernel does): some requests read by the old connection, some not, and
        // while nobody reads, its sends wait for room in the socket.
        Task rest = Task.Run(() =>
        {
            for (int i = count / 2; i < count; i++)
            {
                client.Send(NbdCommand.Write, (ulong)i, (ulong)i * 4096, 4096, Pattern(i));
            }
        });
        Assert.Equal(NbdConnection.HandedOverReason, await served.Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        using var next = new NbdConnection(
            "next", FileDescriptor.FromResult(LibC.dup(served.Connection.Socket), "dup"), served.Connection.Export, received: served.Connection.Unread);
        next.Start();

        await rest.WaitAsync(TimeSpan.FromSeconds(10));
        var answered = new List<ulong>();
        for (int i = 0; i < count; i++)
        {
            (uint error, ulong cookie) = client.ReceiveReply();
            Assert.Equal(0u, error);
            answered.Add(cookie);
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => (ulong)i), answered.Order());
        for (int i = 0; i < count; i += 37)
        {
            Assert.Equal(Pattern(i), client.ReadBack((ulong)(count + i), (ulong)i * 4096, 4096));
        }
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task An_idle_connection_hands_over_at_once(string backing)
    {
        using var served = new ServedConnection(Size, backing);

        served.Connection.RequestHandOver();

        Assert.Equal(NbdConnection.HandedOverReason, await served.Connection.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(served.Connection.Unread.IsEmpty);
    }

    private static byte[] Pattern(int seed) => Enumerable.Range(0, 4096).Select(b => (byte)(b ^ seed ^ (seed >> 8))).ToArray();
}
