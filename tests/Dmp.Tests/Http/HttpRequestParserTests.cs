using System.Text;
using Dmp.Http;

namespace Dmp.Tests.Http;

/// <summary>The request head parser against well-formed requests as curl and Prometheus send them, and against hostile bytes.</summary>
public class HttpRequestParserTests
{
    [Theory]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: localhost:10810\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", "GET", "/metrics")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n", "GET", "/metrics")]
    [InlineData("HEAD / HTTP/1.0\r\n\r\n", "HEAD", "/")]
    [InlineData("GET /metrics?name[]=dmp_requests_total HTTP/1.1\r\n\r\n", "GET", "/metrics")]
    [InlineData("GET /metrics HTTP/1.1\nHost: x\n\n", "GET", "/metrics")]
    [InlineData("DELETE /metrics HTTP/1.1\r\nHost:x\r\nEmpty:\r\n\r\n", "DELETE", "/metrics")]
    public void A_well_formed_head_gives_its_method_and_path_without_the_query(string head, string method, string path)
    {
        HttpParseResult result = HttpRequestParser.Parse(Encoding.ASCII.GetBytes(head));

        Assert.Equal(new HttpRequestHead(method, path), result.Head);
    }

    [Theory]
    [InlineData("\r\n\r\n")]
    [InlineData("GET\r\n\r\n")]
    [InlineData("GET /metrics\r\n\r\n")]
    [InlineData("GET  /metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GET /metrics  HTTP/1.1\r\n\r\n")]
    [InlineData(" GET /metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GET metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://host/metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GET * HTTP/1.1\r\n\r\n")]
    [InlineData("GET /met\x01rics HTTP/1.1\r\n\r\n")]
    [InlineData("GET /m\u00e9trics HTTP/1.1\r\n\r\n")]
    [InlineData("G(T /metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GETTINGVERYLONGMETHOD /metrics HTTP/1.1\r\n\r\n")]
    [InlineData("GET /metrics http/1.1\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1x\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\rHost: x\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost x\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\n: x\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nextra")]
    public void A_malformed_head_is_refused_with_400(string head)
    {
        HttpParseResult result = HttpRequestParser.Parse(Encoding.Latin1.GetBytes(head));

        Assert.Equal((null, HttpStatus.BadRequest), (result.Head, result.Status));
    }

    [Theory]
    [InlineData("GET /metrics HTTP/2.0\r\n\r\n")]
    [InlineData("GET /metrics HTTP/0.9\r\n\r\n")]
    [InlineData("GET /metrics HTTP/3.0\r\n\r\n")]
    public void Another_http_version_is_refused_with_505(string head)
    {
        Assert.Equal(HttpStatus.VersionNotSupported, HttpRequestParser.Parse(Encoding.ASCII.GetBytes(head)).Status);
    }

    [Fact]
    public void A_head_longer_than_8_KiB_is_refused_with_431_even_before_it_ends()
    {
        byte[] head = Encoding.ASCII.GetBytes($"GET /metrics HTTP/1.1\r\nX-Padding: {new string('a', HttpRequestParser.MaxHeadLength)}\r\n\r\n");

        Assert.Equal(HttpStatus.RequestHeaderFieldsTooLarge, HttpRequestParser.Parse(head).Status);
        Assert.Equal(HttpStatus.RequestHeaderFieldsTooLarge, HttpRequestParser.CheckUnfinished(head.AsSpan(0, HttpRequestParser.MaxHeadLength)));
    }

    [Theory]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34)]
    [InlineData("GET / HTTP/1.1\n\nGET / HTTP/1.1\n\n", 16)]
    [InlineData("GET / HTTP/1.1\r\nHost: x\n\r\n", 26)]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n", -1)]
    [InlineData("GET / HTTP/1.1", -1)]
    [InlineData("", -1)]
    [InlineData("\n\n", 2)]
    public void The_head_ends_after_its_first_empty_line(string received, int end)
    {
        Assert.Equal(end, HttpRequestParser.EndOfHead(Encoding.ASCII.GetBytes(received)));
    }

    [Theory]
    [InlineData("GET /metr", HttpStatus.Ok)]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: slow", HttpStatus.Ok)]
    [InlineData("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", HttpStatus.BadRequest)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", HttpStatus.BadRequest)]
    [InlineData("GET /metrics HTTP/2.0\r\n", HttpStatus.VersionNotSupported)]
    public void An_unfinished_head_is_judged_by_its_first_line_once_it_is_whole(string received, int status)
    {
        Assert.Equal(status, HttpRequestParser.CheckUnfinished(Encoding.Latin1.GetBytes(received)));
    }

    [Fact]
    public void Random_bytes_never_throw_and_never_parse_as_a_request()
    {
        var random = new Random(14);
        var bytes = new byte[512];
        for (int round = 0; round < 10_000; round++)
        {
            random.NextBytes(bytes);
            int length = random.Next(bytes.Length);

            HttpParseResult result = HttpRequestParser.Parse(bytes.AsSpan(0, length));
            _ = HttpRequestParser.CheckUnfinished(bytes.AsSpan(0, length));
            _ = HttpRequestParser.EndOfHead(bytes.AsSpan(0, length));

            Assert.Null(result.Head);
        }
    }
}
