namespace Dmp.Http;

/// <summary>A request head, or the status to refuse it with.</summary>
internal readonly record struct HttpParseResult(HttpRequestHead? Head, int Status)
{
    public static HttpParseResult Refused(int status) => new(null, status);
}
