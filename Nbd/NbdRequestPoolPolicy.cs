using Microsoft.Extensions.ObjectPool;

namespace Dmp.Nbd;

/// <summary>Creates requests for the pool and scrubs them on return.</summary>
internal sealed class NbdRequestPoolPolicy : IPooledObjectPolicy<NbdRequest>
{
    /// <summary>A pool for one connection: as many requests as it may have in flight, so none is ever made twice.</summary>
    public static ObjectPool<NbdRequest> CreatePool() =>
        new DefaultObjectPoolProvider { MaximumRetained = NbdConnection.MaxInFlight }.Create(new NbdRequestPoolPolicy());

    public NbdRequest Create() => new();

    public bool Return(NbdRequest obj)
    {
        obj.Clear();
        return true;
    }
}
