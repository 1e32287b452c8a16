using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Dmp.Nbd;
using Xunit.Abstractions;

namespace Dmp.Tests.Server;

/// <summary>
/// dmp serve under abuse: floods of connections, more clients than it serves, clients stalled in the handshake,
/// clients that never read their replies or vanish with requests in flight, and the stat tree read without pause
/// while IO runs. In each, the daemon's resident memory (VmRSS) is measured before and after and held to a bound,
/// no client thread is left behind, and real clients are served afterwards. export0 (memory) is served inline,
/// export1 (a file) through io_uring.
/// </summary>
public sealed class OverloadTests : IDisposable
{
    private const long Size = 64 << 20;

    /// <summary>The name of a server thread that serves one client, handshake and transmission.</summary>
    private const string ClientThread = "nbd client";

    private readonly ITestOutputHelper _output;
    private readonly string _backing = Path.GetTempFileName();
    private readonly ServeProcess _server;

    public OverloadTests(ITestOutputHelper output)
    {
        _output = output;
        using (FileStream file = File.OpenWrite(_backing))
        {
            file.SetLength(Size);
        }

        _server = new ServeProcess($"memory {_backing} --size 64M", withRunDirectory: true);
    }

    public void Dispose()
    {
        _server.Dispose();
        File.Delete(_backing);
    }

    [Fact]
    public void Thousands_of_connections_opened_and_dropped_leave_no_thread_behind_and_memory_bounded()
    {
        OpenAndDrop(200); // what the daemon keeps once it has served at all (heap, pools, malloc arenas)
        ProcessStatus before = AfterClientsEnded();

        OpenAndDrop(4000);

        AssertGrowthBelow(before, AfterClientsEnded(), 16, "4000 connections opened and dropped"); // gen0's 6 MiB, thread stacks and malloc arenas kept for reuse
        AssertServed();
    }

    [Fact]
    public void Clients_past_the_limit_are_refused_with_a_reason_and_the_next_gets_in_once_one_leaves()
    {
        AssertServed();
        ProcessStatus before = AfterClientsEnded();
        var clients = Enumerable.Range(0, NbdServer.MaxClients).Select(i => RawNbdClient.Transmitting(_server.Socket, $"export{i % 2}")).ToList();
        try
        {
            ShellResult nbdinfo = Shell.Run($"nbdinfo --size '{_server.Uri()}'");
            ShellResult qemuImg = Shell.Run($"qemu-img info '{_server.Uri()}'");
            using RawNbdClient extra = RawNbdClient.Negotiating(_server.Socket);
            extra.SendOption(NbdOption.Go, RawNbdClient.GoRequest("export0"));
            (NbdOption option, NbdOptionReplyType type, byte[] reason) = extra.ReceiveOptionReply();

            const string Refusal = "too many clients: this server serves 64 at once; try again later";
            Assert.Equal((NbdOption.Go, NbdOptionReplyType.ErrorPolicy, Refusal), (option, type, Encoding.UTF8.GetString(reason)));
            extra.SendOption(NbdOption.List, []); // a refused client may still go on with the handshake
            Assert.Equal(NbdOptionReplyType.Server, extra.ReceiveOptionReply().Type);
            Assert.Equal(1, nbdinfo.ExitCode);
            Assert.Contains("server policy prevents NBD_OPT_GO", nbdinfo.Errors); // libnbd's words for NBD_REP_ERR_POLICY
            Assert.Equal(1, qemuImg.ExitCode);
            Assert.Contains(Refusal, qemuImg.Errors); // qemu passes the server's reason on
            Assert.All(clients, client => Assert.Equal(0u, client.Request(NbdCommand.Read)));
            AssertGrowthBelow(before, ProcessStatus.Of(_server.Pid), 16, $"{NbdServer.MaxClients} clients connected"); // 256 KiB a client

            clients[0].Dispose();

            Assert.True(Eventually(() => Shell.Run($"nbdinfo --size '{_server.Uri()}'").ExitCode == 0), "a client leaving makes room for the next");
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }

        AssertGrowthBelow(before, AfterClientsEnded(), 8, $"{NbdServer.MaxClients} clients gone");
    }

    [Fact]
    public async Task Clients_stalled_in_the_handshake_keep_no_one_out_and_are_dropped_at_the_deadline()
    {
        AssertServed();
        ProcessStatus before = AfterClientsEnded();
        var stalled = Enumerable.Range(0, 150).Select(_ => Stalled()).ToList();
        try
        {
            var sinceConnected = Stopwatch.StartNew();
            Task<TimeSpan> trickling = Task.Run(() => Trickle(sinceConnected)); // a byte at a time, well within any per-read timeout

            var real = Stopwatch.StartNew();
            ShellResult nbdinfo = Shell.Run($"nbdinfo --size '{_server.Uri("export1")}'");
            real.Stop();

            Assert.Equal((0, "67108864\n"), (nbdinfo.ExitCode, nbdinfo.Output));
            Assert.True(real.Elapsed < TimeSpan.FromSeconds(3), $"a real client took {real.Elapsed} to get in");
            Assert.True(stalled[0].IsClosedByServer(), "the longest stalled is dropped for newer clients");
            Assert.True(ProcessStatus.ThreadsNamed(_server.Pid, ClientThread) <= NbdServer.MaxHandshakes);
            TimeSpan dropped = await trickling;
            Assert.InRange(dropped.TotalSeconds, NbdServer.HandshakeDeadline.TotalSeconds - 0.5, NbdServer.HandshakeDeadline.TotalSeconds + 3);
            Assert.All(stalled, client => Assert.True(client.IsClosedByServer()));
        }
        finally
        {
            stalled.ForEach(client => client.Dispose());
        }

        Assert.True(Eventually(() => _server.Log.Any(line => line.EndsWith("nbd client: handshake: not finished within 10 s", StringComparison.Ordinal))));
        Assert.Contains(_server.Log, line => line.EndsWith("nbd client: handshake: dropped for a newer client: 64 were in the handshake", StringComparison.Ordinal));
        AssertGrowthBelow(before, AfterClientsEnded(), 8, "150 clients stalled in the handshake");
        AssertServed();
    }

    [Theory]
    [InlineData("export0")]
    [InlineData("export1")]
    public async Task A_client_that_never_reads_its_replies_is_no_longer_read_and_holds_bounded_memory(string export)
    {
        AssertServed();
        ProcessStatus before = AfterClientsEnded();
        const int Reads = 1 << 16; // 64 GiB of replies, and 1.8 MiB of requests: more than the socket buffers take
        long sent = 0;
        RawNbdClient hog = RawNbdClient.Transmitting(_server.Socket, export);
        Task sending = Task.Run(() =>
        {
            const int Batch = 64;
            byte[] requests = new byte[Batch * NbdProtocol.RequestHeaderLength];
            for (int i = 0; i < Reads; i += Batch)
            {
                for (int j = 0; j < Batch; j++)
                {
                    new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Read, (ulong)(i + j), (ulong)(j % 64) << 20, 1 << 20)
                        .Write(requests.AsSpan(j * NbdProtocol.RequestHeaderLength));
                }

                hog.SendRaw(requests);
                Interlocked.Add(ref sent, Batch);
            }
        });
        try
        {
            Assert.True(Stalls(() => Interlocked.Read(ref sent)), "the daemon stops reading from a client that does not read");

            // What the connection may hold: its large-payload budget (16 MiB) and its batches.
            Assert.False(sending.IsCompleted);
            AssertGrowthBelow(before, ProcessStatus.Of(_server.Pid), 24, $"a client of {export} not reading {Interlocked.Read(ref sent)} replies of 1 MiB");
            AssertServed();
            using RawNbdClient other = RawNbdClient.Transmitting(_server.Socket, export);
            byte[] data = NbdRequests.Pattern(65536, 7);
            Assert.Equal(0u, other.Write(Size - 65536, data));
            (uint error, byte[]? read) = other.Read(Size - 65536, 65536);
            Assert.Equal(0u, error);
            Assert.Equal(data, read);
        }
        finally
        {
            hog.Dispose();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => sending); // its connection is gone, unblocking it
        AssertGrowthBelow(before, AfterClientsEnded(), 8, $"a client of {export} that did not read, gone");
        AssertServed();
    }

    [Theory]
    [InlineData("export0")]
    [InlineData("export1")]
    public void Clients_that_vanish_with_requests_in_flight_leave_nothing_behind(string export)
    {
        VanishWithRequestsInFlight(export, 5);
        ProcessStatus before = AfterClientsEnded();

        VanishWithRequestsInFlight(export, 50);

        AssertGrowthBelow(before, AfterClientsEnded(), 24, $"50 clients of {export} gone with 96 reads of 1 MiB in flight");
        string[] stat = File.ReadAllText(Path.Combine(_server.RunDirectory, "module", "devices", export, "stat")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", stat[8]); // in flight: every request begun was finished
        AssertServed();
    }

    [Fact]
    public async Task The_metrics_read_without_pause_while_IO_runs_cost_bounded_memory()
    {
        string module = Path.Combine(_server.RunDirectory, "module");
        string[] metrics = [$"{module}/stat/metrics", $"{module}/devices/export0/metrics", $"{module}/devices/export1/metrics"];
        Array.ForEach(metrics, file => File.ReadAllText(file));
        ProcessStatus before = AfterClientsEnded();

        Task<ShellResult> load = Task.Run(() => Shell.Run(
            $"fio --name=load --ioengine=nbd --uri='{_server.Uri("export1")}' --rw=randrw --bsrange=4k-256k --iodepth=16 " +
            "--numjobs=2 --size=64M --time_based --runtime=4"));
        int reads = 0;
        Task[] readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            while (!load.IsCompleted)
            {
                foreach (string file in metrics)
                {
                    Assert.Contains("dmp_requests_total{device=", File.ReadAllText(file));
                    Interlocked.Increment(ref reads);
                }
            }
        })).ToArray();
        await Task.WhenAll([load, .. readers]);

        ShellResult fio = await load;
        Assert.Equal(0, fio.ExitCode);
        Assert.Equal(2, fio.Output.Split("err= 0:").Length - 1); // each job's line
        Assert.True(reads > 100, $"only {reads} reads of the metrics");
        _output.WriteLine($"{reads} reads of the metrics while fio ran");
        AssertGrowthBelow(before, AfterClientsEnded(), 40, $"{reads} reads of the metrics while fio ran"); // 2 large-payload budgets, gen0
        AssertServed();
    }

    /// <summary>Opens <paramref name="count"/> connections and drops each at another point: before the greeting is read, after
    /// it, in the middle of the client's flags, and in transmission with a request unanswered.</summary>
    private void OpenAndDrop(int count)
    {
        for (int i = 0; i < count; i++)
        {
            switch (i % 4)
            {
                case 0:
                    new RawNbdClient(_server.Socket).Dispose();
                    break;
                case 1:
                    using (var client = new RawNbdClient(_server.Socket))
                    {
                        client.ReceiveGreeting();
                    }

                    break;
                case 2:
                    Stalled().Dispose();
                    break;
                default:
                    using (RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, $"export{i / 4 % 2}"))
                    {
                        client.SendRequest(NbdCommand.Read, 0, 65536);
                    }

                    break;
            }
        }
    }

    /// <summary>A client that has read the greeting and sent half of its flags, and then nothing.</summary>
    private RawNbdClient Stalled()
    {
        var client = new RawNbdClient(_server.Socket);
        client.ReceiveGreeting();
        client.SendRaw([0, 0]);
        return client;
    }

    /// <summary>A client that sends a well-formed handshake a byte every 300 ms (an option that never ends), and how
    /// long after connecting the server dropped it.</summary>
    private TimeSpan Trickle(Stopwatch sinceConnected)
    {
        using RawNbdClient client = Stalled(); // its clock starts with the others'
        byte[] start = [0, 3, .. Enumerable.Repeat((byte)0, 16)];
        BinaryPrimitives.WriteUInt16BigEndian(start, 3); // the rest of the flags: fixed newstyle, no zeroes
        BinaryPrimitives.WriteUInt64BigEndian(start.AsSpan(2), NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(start.AsSpan(10), (uint)NbdOption.List);
        BinaryPrimitives.WriteUInt32BigEndian(start.AsSpan(14), (uint)NbdProtocol.MaxOptionLength); // 64 KiB that never all come
        try
        {
            for (int i = 0; sinceConnected.Elapsed < NbdServer.HandshakeDeadline * 2; i++)
            {
                Thread.Sleep(300);
                client.SendRaw([i < start.Length ? start[i] : (byte)0]);
            }
        }
        catch (SocketException)
        {
            return sinceConnected.Elapsed; // the server closed
        }

        throw new TimeoutException("a client trickling its handshake was never dropped");
    }

    /// <summary>Clients that each send 32 writes of 256 KiB and 96 reads of 1 MiB and close without reading a reply.</summary>
    private void VanishWithRequestsInFlight(string export, int clients)
    {
        byte[] payload = NbdRequests.Pattern(256 << 10, 3);
        for (int i = 0; i < clients; i++)
        {
            using RawNbdClient client = RawNbdClient.Transmitting(_server.Socket, export);
            for (int j = 0; j < 32; j++)
            {
                client.SendRequest(NbdCommand.Write, (ulong)j << 20, (uint)payload.Length, payload: payload, cookie: (ulong)j);
            }

            for (int j = 0; j < 96; j++)
            {
                client.SendRequest(NbdCommand.Read, (ulong)(j % 64) << 20, 1 << 20, cookie: (ulong)(32 + j));
            }
        }
    }

    /// <summary>Polls <paramref name="progress"/> until it stays put for a second.</summary>
    private static bool Stalls(Func<long> progress)
    {
        long last = -1;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(1000);
            long now = progress();
            if (now == last)
            {
                return true;
            }

            last = now;
        }

        return false;
    }

    private static bool Eventually(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                return false;
            }

            Thread.Sleep(50);
        }

        return true;
    }

    /// <summary>The daemon's status once every client thread has ended, which they must within seconds of their clients.</summary>
    private ProcessStatus AfterClientsEnded()
    {
        Assert.True(Eventually(() => ProcessStatus.ThreadsNamed(_server.Pid, ClientThread) == 0), "a client's thread outlived its client");
        return ProcessStatus.Of(_server.Pid);
    }

    private void AssertGrowthBelow(ProcessStatus before, ProcessStatus after, long boundMiB, string what)
    {
        _output.WriteLine($"{what}: VmRSS {before.ResidentKiB} KiB before, {after.ResidentKiB} KiB after ({(after.ResidentKiB - before.ResidentKiB) / 1024.0:F1} MiB more)");
        Assert.True(after.ResidentKiB - before.ResidentKiB < boundMiB << 10,
            $"{what}: VmRSS grew from {before.ResidentKiB} KiB to {after.ResidentKiB} KiB, more than {boundMiB} MiB");
    }

    /// <summary>A real client (nbdinfo) gets each export's size.</summary>
    private void AssertServed()
    {
        foreach (string export in new[] { "export0", "export1" })
        {
            ShellResult nbdinfo = Shell.Run($"nbdinfo --size '{_server.Uri(export)}'");
            Assert.Equal((0, "67108864\n", ""), (nbdinfo.ExitCode, nbdinfo.Output, nbdinfo.Errors));
        }
    }
}
