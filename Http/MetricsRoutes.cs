namespace Dmp.Http;

/// <summary>
/// What the metrics endpoint answers: <c>GET /metrics</c> the Prometheus text format, <c>GET /</c> a pointer to it
/// (as exporters do), <c>HEAD</c> either without the body; any other method 405, any other path 404.
/// </summary>
internal static class MetricsRoutes
{
    public const string MetricsPath = "/metrics";

    /// <summary>The media type of Prometheus' text exposition format 0.0.4.</summary>
    public const string ExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string AllowedMethods = "GET, HEAD";

    public static HttpResponse Respond(HttpRequestHead request, Func<string> metrics)
    {
        if (request.Method is not ("GET" or "HEAD"))
        {
            return HttpResponse.Error(HttpStatus.MethodNotAllowed, AllowedMethods);
        }

        HttpResponse response = request.Path switch
        {
            MetricsPath => new HttpResponse(HttpStatus.Ok, metrics(), ExpositionContentType),
            "/" => new HttpResponse(HttpStatus.Ok, $"dmp: the metrics are at {MetricsPath}\n"),
            _ => HttpResponse.Error(HttpStatus.NotFound),
        };
        return response with { WithBody = request.Method == "GET" };
    }
}
