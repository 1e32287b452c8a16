namespace Dmp.Faults;

/// <summary>What a fault rule does to a request it fires on.</summary>
internal enum FaultAction
{
    /// <summary>Nothing: the request is served as usual.</summary>
    None,

    /// <summary>Answered with an error, the store untouched (dm-flakey's <c>error_reads</c>/<c>error_writes</c>, nbdkit's error filter).</summary>
    Fail,

    /// <summary>Served after a wait, while other requests pass it (dm-delay, nbdkit's delay filter).</summary>
    Delay,

    /// <summary>A write acknowledged but not made (dm-flakey's <c>drop_writes</c>).</summary>
    Drop,

    /// <summary>A read served with one byte of its data inverted (dm-flakey's <c>corrupt_bio_byte</c>).</summary>
    Corrupt,
}
