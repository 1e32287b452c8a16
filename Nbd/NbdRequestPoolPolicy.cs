using Microsoft.Extensions.ObjectPool;

namespace Dmp.Nbd;

/// <summary>Creates requests for one connection's pool, each with the next index, and scrubs them on return.</summary>
internal sealed class NbdRequestPoolPolicy : IPooledObjectPolicy<NbdRequest>
{
    private readonly NbdRequest?[] _byId;
    private int _created;

    private NbdRequestPoolPolicy(NbdRequest?[] byId) => _byId = byId;

    /// <summary>
    /// A pool for one connection: as many requests as it may have in flight, so none is ever made twice and
    /// their indexes stay below <see cref="NbdConnection.MaxInFlight"/>. Each request is also entered in
    /// <paramref name="byId"/> (only the receiving thread takes requests, so only it creates them).
    /// </summary>
    public static ObjectPool<NbdRequest> CreatePool(NbdRequest?[] byId) =>
        new DefaultObjectPoolProvider { MaximumRetained = NbdConnection.MaxInFlight }.Create(new NbdRequestPoolPolicy(byId));

    public NbdRequest Create()
    {
        var request = new NbdRequest(_created);
        _byId[_created++] = request;
        return request;
    }

    public bool Return(NbdRequest obj)
    {
        obj.Clear();
        return true;
    }
}
