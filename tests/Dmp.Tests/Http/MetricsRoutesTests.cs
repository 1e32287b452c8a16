using Dmp.Http;

namespace Dmp.Tests.Http;

/// <summary>What the metrics endpoint answers each method and path with.</summary>
public class MetricsRoutesTests
{
    private const string Metrics = "# TYPE dmp_requests_total counter\n";

    [Fact]
    public void Get_metrics_answers_the_metrics_in_the_prometheus_text_format()
    {
        HttpResponse response = MetricsRoutes.Respond(new HttpRequestHead("GET", "/metrics"), () => Metrics);

        Assert.Equal((HttpStatus.Ok, Metrics, "text/plain; version=0.0.4; charset=utf-8", true), (response.Status, response.Body, response.ContentType, response.WithBody));
    }

    [Fact]
    public void Head_answers_as_get_without_the_body_but_with_its_length()
    {
        HttpResponse response = MetricsRoutes.Respond(new HttpRequestHead("HEAD", "/metrics"), () => Metrics);

        Assert.False(response.WithBody);
        Assert.Contains($"Content-Length: {Metrics.Length}\r\n", System.Text.Encoding.ASCII.GetString(response.Head(Metrics.Length)), StringComparison.Ordinal);
    }

    [Fact]
    public void The_root_points_to_the_metrics_without_rendering_them()
    {
        HttpResponse response = MetricsRoutes.Respond(new HttpRequestHead("GET", "/"), () => throw new InvalidOperationException("rendered"));

        Assert.Equal((HttpStatus.Ok, "dmp: the metrics are at /metrics\n"), (response.Status, response.Body));
    }

    [Theory]
    [InlineData("POST", "/metrics", HttpStatus.MethodNotAllowed)]
    [InlineData("PUT", "/", HttpStatus.MethodNotAllowed)]
    [InlineData("get", "/metrics", HttpStatus.MethodNotAllowed)]
    [InlineData("GET", "/metrics/", HttpStatus.NotFound)]
    [InlineData("GET", "/Metrics", HttpStatus.NotFound)]
    [InlineData("GET", "/stat/volumes", HttpStatus.NotFound)]
    [InlineData("HEAD", "/../metrics", HttpStatus.NotFound)]
    public void Anything_else_is_refused_and_says_so(string method, string path, int status)
    {
        HttpResponse response = MetricsRoutes.Respond(new HttpRequestHead(method, path), () => throw new InvalidOperationException("rendered"));

        Assert.Equal(status, response.Status);
        string head = System.Text.Encoding.ASCII.GetString(response.Head(response.Body.Length));
        Assert.StartsWith($"HTTP/1.1 {status} ", head, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", head, StringComparison.Ordinal);
        Assert.Equal(status == HttpStatus.MethodNotAllowed, head.Contains("Allow: GET, HEAD\r\n", StringComparison.Ordinal));
    }
}
