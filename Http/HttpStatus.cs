namespace Dmp.Http;

/// <summary>The status codes dmp's HTTP server answers with, and their reason phrases.</summary>
internal static class HttpStatus
{
    public const int Ok = 200;
    public const int BadRequest = 400;
    public const int NotFound = 404;
    public const int MethodNotAllowed = 405;
    public const int RequestHeaderFieldsTooLarge = 431;
    public const int VersionNotSupported = 505;

    public static string ReasonOf(int status) => status switch
    {
        Ok => "OK",
        BadRequest => "Bad Request",
        NotFound => "Not Found",
        MethodNotAllowed => "Method Not Allowed",
        RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
        VersionNotSupported => "HTTP Version Not Supported",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a status dmp answers with"),
    };
}
