using System.Net.Sockets;
using System.Text.RegularExpressions;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using Dmp.Tests.Server;

namespace Dmp.Tests.Daemon;

/// <summary>
/// The real <c>dmp serve</c> under a real AF_UNIX datagram socket named by <c>NOTIFY_SOCKET</c>, as systemd runs a
/// <c>Type=notify</c> unit: READY=1 (with its pid as MAINPID, and a STATUS) only once NBD clients are accepted,
/// STOPPING=1 on SIGTERM, and WATCHDOG=1 with <c>WATCHDOG_USEC</c> set for as long as its connections answer.
/// </summary>
public sealed partial class ServiceNotifierTests
{
    [Fact]
    public void Serve_says_READY_with_its_pid_and_status_only_once_it_accepts_NBD_clients()
    {
        using var systemd = new NotifyListener();
        bool? acceptedAtReady = null;
        systemd.Arrived = message =>
        {
            if (message.Split('\n').Contains("READY=1"))
            {
                acceptedAtReady = AcceptsClients(ListenedSocket().Match(message).Groups[1].Value);
            }
        };

        using var server = new ServeProcess("memory --size 1M", environment: Notify(systemd));
        string ready = systemd.WaitFor("READY=1");

        Assert.True(acceptedAtReady);
        Assert.Contains($"MAINPID={server.Pid}", ready.Split('\n'));
        Assert.Contains($"STATUS=serving 1 export on unix:{server.Socket}", ready.Split('\n'));
        Assert.DoesNotContain(systemd.Messages, message => message.Message.Contains("STOPPING=1", StringComparison.Ordinal));
    }

    [Fact]
    public void Serve_says_STOPPING_on_SIGTERM_and_nothing_after()
    {
        using var systemd = new NotifyListener();
        using var server = new ServeProcess("memory --size 1M", environment: Notify(systemd));
        systemd.WaitFor("READY=1");

        Assert.Equal(0, server.Stop());

        Assert.Contains("STOPPING=1", systemd.WaitFor("STOPPING=1").Split('\n'));
        Assert.Contains("STOPPING=1", systemd.Messages[^1].Message.Split('\n'));
        Assert.Single(systemd.Times("READY=1"));
    }

    [Fact]
    public void An_abstract_NOTIFY_SOCKET_is_reached_too()
    {
        using var systemd = new NotifyListener(abstractName: true);
        using var server = new ServeProcess("memory --size 1M", environment: Notify(systemd));

        Assert.Contains($"MAINPID={server.Pid}", systemd.WaitFor("READY=1").Split('\n'));
    }

    [Fact]
    public void WATCHDOG_comes_every_half_interval_while_idle_stops_while_a_request_is_stuck_and_resumes_once_it_is_answered()
    {
        // A half-second watchdog: a ping every 250 ms; a connection with a request in flight and nothing answered
        // for more than 500 ms is stuck. The stuck request is a read a fault rule holds for 3 s.
        using var systemd = new NotifyListener();
        using var server = new ServeProcess(
            "memory --size 1M", withRunDirectory: true, environment: Notify(systemd, ("WATCHDOG_USEC", "500000")));
        systemd.WaitFor("READY=1");
        TimeSpan idleFrom = systemd.Now;
        Thread.Sleep(1500);
        Assert.InRange(systemd.Times("WATCHDOG=1").Count(at => at > idleFrom), 3, 8); // 6, give or take a busy machine

        ShellResult rule = DmpBinary.Run($"fault --run-dir {server.RunDirectory} add export0 op=read delay=3s");
        Assert.Equal((0, ""), (rule.ExitCode, rule.Errors));
        using RawNbdClient client = RawNbdClient.Transmitting(server.Socket, "export0");
        TimeSpan sent = systemd.Now;
        client.SendRequest(NbdCommand.Read, 0, 4096);
        Assert.Equal(0u, client.ReceiveReply());
        client.Receive(4096);
        TimeSpan answered = systemd.Now;
        Thread.Sleep(1500);

        List<TimeSpan> pings = systemd.Times("WATCHDOG=1");
        Assert.InRange(answered - sent, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6));
        Assert.DoesNotContain(pings, at => at > sent + TimeSpan.FromSeconds(1) && at < answered);
        Assert.InRange(pings.Count(at => at > answered), 2, 8);
        Assert.Contains(server.Log, line => line.Contains("watchdog: export0 has had requests in flight", StringComparison.Ordinal));
    }

    [Fact]
    public void No_WATCHDOG_when_WATCHDOG_PID_names_another_process()
    {
        using var systemd = new NotifyListener();
        using var server = new ServeProcess(
            "memory --size 1M", environment: Notify(systemd, ("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "1")));
        systemd.WaitFor("READY=1");
        Thread.Sleep(800);

        Assert.Empty(systemd.Times("WATCHDOG=1"));
    }

    [Fact]
    public void A_NOTIFY_SOCKET_nobody_listens_on_is_logged_once_and_serving_goes_on()
    {
        string nowhere = Path.Combine(Path.GetTempPath(), $"dmp-no-notify-{Guid.NewGuid():N}.sock");
        using var server = new ServeProcess(
            "memory --size 1M", environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = nowhere, ["WATCHDOG_USEC"] = "100000" });
        Thread.Sleep(600);
        using (RawNbdClient client = RawNbdClient.Transmitting(server.Socket, "export0"))
        {
            Assert.Equal(0u, client.Read(0, 512).Error);
        }

        Assert.Equal(0, server.Stop());
        Assert.Single(server.Log, line => line.Contains($"notify systemd ({nowhere}): No such file or directory", StringComparison.Ordinal));
    }

    private static Dictionary<string, string> Notify(NotifyListener systemd, params (string Name, string Value)[] more) =>
        new[] { ("NOTIFY_SOCKET", systemd.Address) }.Concat(more).ToDictionary(variable => variable.Item1, variable => variable.Item2);

    /// <summary>Whether an NBD server accepts at <paramref name="path"/> and greets.</summary>
    private static bool AcceptsClients(string path)
    {
        try
        {
            using var client = new RawNbdClient(path);
            return client.ReceiveGreeting().Magic == NbdProtocol.HandshakeMagic;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"STATUS=serving \d+ exports? on unix:(\S+)")]
    private static partial Regex ListenedSocket();
}
