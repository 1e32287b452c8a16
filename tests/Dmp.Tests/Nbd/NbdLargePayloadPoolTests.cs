using Dmp.Nbd;
using Dmp.Native;

namespace Dmp.Tests.Nbd;

public sealed class NbdLargePayloadPoolTests
{
    private const int Large = 1 << 20;

    [Fact]
    public void A_large_payload_is_refused_until_the_budget_has_room_for_it()
    {
        using var pool = new NbdLargePayloadPool(2 * Large);
        NativeBuffer first = Rent(pool, Large);
        Rent(pool, Large);

        Assert.False(pool.TryRent(Large, out _));

        pool.Return(first, Large);
        Assert.True(Rent(pool, Large).Capacity >= Large);
    }

    [Fact]
    public void One_payload_larger_than_the_budget_passes_alone()
    {
        using var pool = new NbdLargePayloadPool(Large);
        NativeBuffer huge = Rent(pool, 4 * Large);
        Assert.Equal(4 * Large, huge.Capacity);
        Assert.False(pool.TryRent(Large, out _));
        pool.Return(huge, 4 * Large); // too large to keep: freed

        Assert.NotSame(huge, Rent(pool, Large));
    }

    [Fact]
    public void A_returned_buffer_is_reused_for_a_payload_it_can_hold()
    {
        using var pool = new NbdLargePayloadPool(4 * Large);
        NativeBuffer buffer = Rent(pool, Large);
        pool.Return(buffer, Large);

        Assert.Same(buffer, Rent(pool, Large - 4096));
    }

    [Fact]
    public void Kept_buffers_stay_within_the_budget_the_oldest_going_first()
    {
        using var pool = new NbdLargePayloadPool(2 * Large);
        NativeBuffer oldest = Rent(pool, Large);
        NativeBuffer newer = Rent(pool, Large);
        pool.Return(oldest, Large);
        pool.Return(newer, Large);
        NativeBuffer larger = Rent(pool, 2 * Large); // neither fits: a new one
        pool.Return(larger, 2 * Large); // evicts both to make room

        Assert.Same(larger, Rent(pool, Large));
    }

    private static NativeBuffer Rent(NbdLargePayloadPool pool, int length)
    {
        Assert.True(pool.TryRent(length, out NativeBuffer? buffer));
        return buffer;
    }
}
