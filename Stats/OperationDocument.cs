namespace Dmp.Stats;

/// <summary>One operation's counters; the histograms map each bucket's upper bound ("+Inf" last) to its count.</summary>
internal sealed record OperationDocument(
    long Requests,
    long Bytes,
    long Errors,
    long InFlight,
    long TimeUs,
    Dictionary<string, long> LatencyUs,
    Dictionary<string, long> Sizes);
