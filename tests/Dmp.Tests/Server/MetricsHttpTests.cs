using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dmp.Tests.Cli;

namespace Dmp.Tests.Server;

/// <summary>
/// <c>dmp serve --metrics-listen</c>: the real binary scraped over TCP by curl and read by Prometheus' client library,
/// and hostile clients on raw sockets (bad methods and paths, an oversized head, garbage, a stalled head, a
/// flood), each refused or dropped as the server promises while a good scrape still works and the daemon lives.
/// </summary>
public sealed class MetricsHttpTests : IDisposable
{
    private readonly int _port;
    private readonly ServeProcess _server;

    public MetricsHttpTests()
    {
        _port = FreeTcpPort();
        _server = new ServeProcess($"--metrics-listen tcp:127.0.0.1:{_port} memory zero --size 64M", withRunDirectory: true);
    }

    private string Url => $"http://127.0.0.1:{_port}";

    private string Module => Path.Combine(_server.RunDirectory, "module");

    public void Dispose() => _server.Dispose();

    [Fact]
    public void A_scrape_after_a_known_workload_is_what_stat_metrics_shows_and_agrees_with_stat_volumes()
    {
        KnownWorkload.Run(_server.Socket);
        string scraped = Path.Combine(_server.Directory, "scraped");

        ShellResult curl = Shell.Run($"curl -sS -o {scraped} -w '%{{http_code}} %{{content_type}}' {Url}/metrics");

        Assert.Equal((0, "200 text/plain; version=0.0.4; charset=utf-8", ""), (curl.ExitCode, curl.Output, curl.Errors));
        string[] samples = PrometheusText.Samples(scraped);
        Assert.Contains("counter dmp_requests_total export0 read - 5.0", samples);
        Assert.Contains("counter dmp_requests_total export0 write - 3.0", samples);
        Assert.Contains("counter dmp_errors_total export0 write - 1.0", samples);
        Assert.Contains("histogram dmp_request_size_bytes_bucket export0 read 4096 5.0", samples);
        Assert.Contains("counter dmp_requests_total export1 read - 0.0", samples);
        string volumes = File.ReadAllText(Path.Combine(Module, "devices/export0/volumes"));
        Assert.StartsWith("read:\n reqs: 5\n avg size: 4096\nwrite:\n reqs: 3\n", volumes, StringComparison.Ordinal);

        // Every sample but the daemon's allocation count (which the reads themselves move) is the stat tree's.
        static string[] Counts(string[] samples) => [.. samples.Where(sample => !sample.Contains("dmp_allocated_bytes_total", StringComparison.Ordinal))];
        Assert.Equal(Counts(PrometheusText.Samples(Path.Combine(Module, "stat/metrics"))), Counts(samples));
    }

    [Fact]
    public void The_listen_address_shows_in_the_parameters()
    {
        Assert.Equal($"tcp:127.0.0.1:{_port}\n", File.ReadAllText(Path.Combine(Module, "parameters/metrics_listen")));
        Assert.Contains(_server.Log, line => line.Contains($"metrics on tcp:127.0.0.1:{_port}", StringComparison.Ordinal));
    }

    [Fact]
    public void The_root_points_to_the_metrics()
    {
        ShellResult curl = Shell.Run($"curl -sS {Url}/");

        Assert.Equal((0, "dmp: the metrics are at /metrics\n"), (curl.ExitCode, curl.Output));
    }

    [Fact]
    public void Head_answers_the_head_of_get_without_its_body()
    {
        string response = Exchange("HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", response, StringComparison.Ordinal);
        int length = int.Parse(Header(response, "Content-Length"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(length > 10_000, response);
    }

    [Theory]
    [InlineData("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "405 Method Not Allowed")]
    [InlineData("DELETE / HTTP/1.1\r\n\r\n", "405 Method Not Allowed")]
    [InlineData("GET /stat/volumes HTTP/1.1\r\n\r\n", "404 Not Found")]
    [InlineData("GET /metrics/../../etc/passwd HTTP/1.1\r\n\r\n", "404 Not Found")]
    [InlineData("GET /metrics HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400 Bad Request")]
    [InlineData("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", "400 Bad Request")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request")]
    public void A_bad_request_is_refused_with_its_status_and_the_connection_closed(string request, string status)
    {
        string response = Exchange(request);

        Assert.StartsWith($"HTTP/1.1 {status}\r\n", response, StringComparison.Ordinal);
        Assert.Equal("close", Header(response, "Connection"));
        Assert.Equal(status.StartsWith("405", StringComparison.Ordinal), response.Contains("\r\nAllow: GET, HEAD\r\n", StringComparison.Ordinal));
        Assert.DoesNotContain("dmp_", response, StringComparison.Ordinal);
        AssertAScrapeWorks();
    }

    [Fact]
    public void A_head_over_8_KiB_is_refused_with_431()
    {
        string response = Exchange($"GET /metrics HTTP/1.1\r\nX-Padding: {new string('a', 16 * 1024)}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", response, StringComparison.Ordinal);
        AssertAScrapeWorks();
    }

    [Fact]
    public void Garbage_without_a_line_end_is_refused_once_it_reaches_8_KiB()
    {
        var garbage = new byte[8 * 1024];
        new Random(14).NextBytes(garbage);
        garbage.AsSpan().Replace((byte)'\n', (byte)'x');

        string response = Exchange(garbage);

        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
        AssertAScrapeWorks();
    }

    [Fact]
    public void A_client_that_sends_half_a_request_and_stalls_is_dropped_after_5_seconds_while_others_are_served()
    {
        using Socket stalled = Connect();
        stalled.Send("GET /metr"u8);
        var clock = Stopwatch.StartNew();

        AssertAScrapeWorks();
        string response = ReceiveAll(stalled, TimeSpan.FromSeconds(15));

        Assert.Equal("", response); // dropped: no answer, the connection closed
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_flood_of_idle_connections_beyond_16_evicts_the_oldest_so_a_scrape_still_gets_through()
    {
        var flood = new List<Socket>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                flood.Add(Connect());
            }

            // The newest 16 wait for their heads; each one before was closed without an answer to make room.
            Assert.True(SpinWait.SpinUntil(() => flood.Count(IsClosed) == 40 - 16, TimeSpan.FromSeconds(10)), $"{flood.Count(IsClosed)} closed");
            Assert.All(flood[..(40 - 16)], socket => Assert.True(IsClosed(socket)));
            Assert.Equal("", ReceiveAll(flood[0], TimeSpan.FromSeconds(1)));

            AssertAScrapeWorks(); // evicting the oldest of the 16
            Assert.True(IsClosed(flood[40 - 16]));
            Assert.All(flood[(40 - 16 + 1)..], socket => Assert.False(IsClosed(socket)));

            // The rest are dropped once their heads time out; the daemon serves on.
            Assert.True(SpinWait.SpinUntil(() => flood.All(IsClosed), TimeSpan.FromSeconds(10)));
            AssertAScrapeWorks();
        }
        finally
        {
            flood.ForEach(socket => socket.Dispose());
        }
    }

    [Fact]
    public void A_bad_metrics_listen_address_is_refused_with_one_line()
    {
        ShellResult serve = DmpBinary.Run("serve --listen unix:/tmp/unused.sock --metrics-listen udp:1.2.3.4:5 memory");

        Assert.NotEqual(0, serve.ExitCode);
        Assert.StartsWith("dmp: invalid listen address 'udp:1.2.3.4:5': use unix:PATH or tcp:HOST:PORT", serve.Errors, StringComparison.Ordinal);
        Assert.Single(serve.Errors.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void A_metrics_port_in_use_fails_the_start_with_one_line()
    {
        string socket = Path.Combine(_server.Directory, "second.sock");
        ShellResult serve = DmpBinary.Run($"serve --listen unix:{socket} --metrics-listen tcp:127.0.0.1:{_port} memory");

        Assert.NotEqual(0, serve.ExitCode);
        Assert.StartsWith("dmp: bind 127.0.0.1:", serve.Errors, StringComparison.Ordinal);
        Assert.Single(serve.Errors.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(socket));
        AssertAScrapeWorks();
    }

    internal static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Header(string response, string name) =>
        response.Split("\r\n").Single(line => line.StartsWith($"{name}: ", StringComparison.Ordinal))[(name.Length + 2)..];

    /// <summary>Whether the server closed the connection: readable, with nothing to read.</summary>
    private static bool IsClosed(Socket socket) => socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;

    private static string ReceiveAll(Socket socket, TimeSpan timeout)
    {
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        for (int count; (count = socket.Receive(buffer)) > 0;)
        {
            received.Write(buffer, 0, count);
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    private void AssertAScrapeWorks()
    {
        ShellResult curl = Shell.Run($"curl -sS -m 5 -o /dev/null -w '%{{http_code}}' {Url}/metrics");
        Assert.Equal((0, "200"), (curl.ExitCode, curl.Output));
    }

    private Socket Connect()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, _port);
        return socket;
    }

    private string Exchange(string request) => Exchange(Encoding.Latin1.GetBytes(request));

    /// <summary>Sends <paramref name="request"/> and returns all the server answers until it closes the connection.</summary>
    private string Exchange(byte[] request)
    {
        using Socket socket = Connect();
        socket.Send(request);
        return ReceiveAll(socket, TimeSpan.FromSeconds(10));
    }
}
