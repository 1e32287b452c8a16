using System.Text;

namespace Dmp.Http;

/// <summary>
/// Parses an HTTP/1.x request head (RFC 9112) strictly, from bytes a client sent: the request line and
/// the syntax of every header field, none of whose values dmp needs. Lines end with CRLF or a bare LF
/// (which RFC 9112 lets a server accept); anything else malformed is refused with 400, another HTTP
/// version with 505. Nothing here throws on input.
/// </summary>
internal static class HttpRequestParser
{
    /// <summary>The longest request head accepted; a longer one is refused with 431.</summary>
    public const int MaxHeadLength = 8 * 1024;

    /// <summary>The longest method accepted: far longer than any real one, short enough to allocate nothing large.</summary>
    private const int MaxMethodLength = 16;

    /// <summary>Where the head in <paramref name="received"/> ends (just after its empty line), or -1 when it has not ended yet.</summary>
    public static int EndOfHead(ReadOnlySpan<byte> received)
    {
        for (int index = received.IndexOf((byte)'\n'); index >= 0;)
        {
            ReadOnlySpan<byte> rest = received[(index + 1)..];
            if (rest.StartsWith("\n"u8))
            {
                return index + 2;
            }

            if (rest.StartsWith("\r\n"u8))
            {
                return index + 3;
            }

            int next = rest.IndexOf((byte)'\n');
            index = next < 0 ? -1 : index + 1 + next;
        }

        return -1;
    }

    /// <summary>
    /// The status to refuse an unfinished head with at once, judging its first line as soon as it is whole, so that
    /// garbage is answered rather than left to time out; <see cref="HttpStatus.Ok"/> while nothing is wrong yet.
    /// </summary>
    public static int CheckUnfinished(ReadOnlySpan<byte> received) =>
        received.Length >= MaxHeadLength ? HttpStatus.RequestHeaderFieldsTooLarge
        : received.Contains((byte)'\n') ? ParseRequestLine(Line(received, out _)).Status
        : HttpStatus.Ok;

    /// <summary>Parses a whole head, as <see cref="EndOfHead"/> delimits it.</summary>
    public static HttpParseResult Parse(ReadOnlySpan<byte> head)
    {
        if (head.Length > MaxHeadLength)
        {
            return HttpParseResult.Refused(HttpStatus.RequestHeaderFieldsTooLarge);
        }

        HttpParseResult requestLine = ParseRequestLine(Line(head, out int consumed));
        if (requestLine.Head is null)
        {
            return requestLine;
        }

        for (ReadOnlySpan<byte> rest = head[consumed..]; ;)
        {
            if (rest.IsEmpty)
            {
                return HttpParseResult.Refused(HttpStatus.BadRequest); // the head must end with an empty line
            }

            ReadOnlySpan<byte> field = Line(rest, out int length);
            if (field.IsEmpty)
            {
                return length == rest.Length ? requestLine : HttpParseResult.Refused(HttpStatus.BadRequest);
            }

            if (!IsHeaderField(field))
            {
                return HttpParseResult.Refused(HttpStatus.BadRequest);
            }

            rest = rest[length..];
        }
    }

    /// <summary>The first line of <paramref name="text"/> without its ending; <paramref name="consumed"/> counts the ending too.</summary>
    private static ReadOnlySpan<byte> Line(ReadOnlySpan<byte> text, out int consumed)
    {
        int newline = text.IndexOf((byte)'\n');
        if (newline < 0)
        {
            consumed = text.Length;
            return text;
        }

        consumed = newline + 1;
        return newline > 0 && text[newline - 1] == '\r' ? text[..(newline - 1)] : text[..newline];
    }

    /// <summary><c>method SP request-target SP HTTP-version</c>, the target in origin form (a path and an optional query).</summary>
    private static HttpParseResult ParseRequestLine(ReadOnlySpan<byte> line)
    {
        int firstSpace = line.IndexOf((byte)' ');
        int lastSpace = line.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace == firstSpace)
        {
            return HttpParseResult.Refused(HttpStatus.BadRequest);
        }

        ReadOnlySpan<byte> method = line[..firstSpace];
        ReadOnlySpan<byte> target = line[(firstSpace + 1)..lastSpace];
        ReadOnlySpan<byte> version = line[(lastSpace + 1)..];
        if (method.Length > MaxMethodLength || !IsToken(method) || target.IsEmpty || target[0] != '/' || !IsVisible(target))
        {
            return HttpParseResult.Refused(HttpStatus.BadRequest);
        }

        if (!version.SequenceEqual("HTTP/1.1"u8) && !version.SequenceEqual("HTTP/1.0"u8))
        {
            bool wellFormed = version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == '.' && char.IsAsciiDigit((char)version[7]);
            return HttpParseResult.Refused(wellFormed ? HttpStatus.VersionNotSupported : HttpStatus.BadRequest);
        }

        int query = target.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = query < 0 ? target : target[..query];
        return new HttpParseResult(new HttpRequestHead(Encoding.ASCII.GetString(method), Encoding.ASCII.GetString(path)), HttpStatus.Ok);
    }

    /// <summary><c>field-name ":" OWS field-value OWS</c>: no space before the colon, no folded lines, no control characters.</summary>
    private static bool IsHeaderField(ReadOnlySpan<byte> field)
    {
        int colon = field.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(field[..colon]))
        {
            return false;
        }

        foreach (byte value in field[(colon + 1)..])
        {
            if (value is < 0x20 and not (byte)'\t' || value == 0x7f)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 9110's <c>token</c>: one or more tchar.</summary>
    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (byte character in text)
        {
            if (!char.IsAsciiLetterOrDigit((char)character) && "!#$%&'*+-.^_`|~"u8.IndexOf(character) < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Printable ASCII without spaces, as a request target must be.</summary>
    private static bool IsVisible(ReadOnlySpan<byte> text)
    {
        foreach (byte character in text)
        {
            if (character is <= 0x20 or >= 0x7f)
            {
                return false;
            }
        }

        return true;
    }
}
