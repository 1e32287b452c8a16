using System.Globalization;
using System.Text;

namespace Dmp.Http;

/// <summary>A whole response: its status, a text body and, for 405, the methods allowed. Every connection closes after one.</summary>
internal sealed record HttpResponse(int Status, string Body, string ContentType = HttpResponse.PlainText, string? Allow = null)
{
    /// <summary>False for the response to a HEAD request: the head alone, with the length the body would have.</summary>
    public bool WithBody { get; init; } = true;

    public const string PlainText = "text/plain; charset=utf-8";

    /// <summary>A refusal whose body says why in one line.</summary>
    public static HttpResponse Error(int status, string? allow = null) => new(status, $"{status} {HttpStatus.ReasonOf(status)}\n", Allow: allow);

    /// <summary>The status line and header fields, with the body's length even when the body is left out (HEAD).</summary>
    public byte[] Head(int bodyLength) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {Status} {HttpStatus.ReasonOf(Status)}\r\n" +
        $"Content-Type: {ContentType}\r\n" +
        $"Content-Length: {bodyLength.ToString(CultureInfo.InvariantCulture)}\r\n" +
        (Allow is null ? "" : $"Allow: {Allow}\r\n") +
        "Connection: close\r\n\r\n");
}
