using Microsoft.Extensions.ObjectPool;

namespace Dmp.Nbd;

/// <summary>Creates requests for the pool and scrubs them on return.</summary>
internal sealed class NbdRequestPoolPolicy : IPooledObjectPolicy<NbdRequest>
{
    /// <summary>Enough for every request the kernel can have in flight on two sockets (128 each).</summary>
    public const int MaximumRetained = 256;

    public static ObjectPool<NbdRequest> CreatePool() =>
        new DefaultObjectPoolProvider { MaximumRetained = MaximumRetained }.Create(new NbdRequestPoolPolicy());

    public NbdRequest Create() => new();

    public bool Return(NbdRequest obj)
    {
        obj.Clear();
        return true;
    }
}
