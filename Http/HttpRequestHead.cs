namespace Dmp.Http;

/// <summary>What dmp reads of an HTTP request: its method and the path of its target, without the query.</summary>
internal sealed record HttpRequestHead(string Method, string Path);
