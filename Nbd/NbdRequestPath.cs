namespace Dmp.Nbd;

/// <summary>How a connection carries out its requests.</summary>
internal enum NbdRequestPath
{
    /// <summary>On its receiving thread, as they arrive: for stores that only touch memory.</summary>
    Inline,

    /// <summary>Started on the connection's own io_uring and answered as they complete, all on its receiving thread.</summary>
    Ring,

    /// <summary>On the thread pool, many at a time: for stores that may block, where io_uring is not to be had.</summary>
    ThreadPool,
}
