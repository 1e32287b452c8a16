using Dmp.Nbd;
using Dmp.Native;

namespace Dmp.Tests.Nbd;

public sealed class NbdLargePayloadPoolTests
{
    private const int Large = 1 << 20;

    [Fact]
    public async Task A_large_payload_waits_until_the_budget_has_room_for_it()
    {
        using var pool = new NbdLargePayloadPool(2 * Large);
        NativeBuffer first = pool.Rent(Large);
        pool.Rent(Large);

        Task<NativeBuffer> third = Task.Run(() => pool.Rent(Large));
        await Task.Delay(50);
        Assert.False(third.IsCompleted);

        pool.Return(first, Large);
        Assert.True((await third.WaitAsync(TimeSpan.FromSeconds(10))).Capacity >= Large);
    }

    [Fact]
    public async Task One_payload_larger_than_the_budget_passes_alone()
    {
        using var pool = new NbdLargePayloadPool(Large);
        NativeBuffer huge = await Task.Run(() => pool.Rent(4 * Large)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4 * Large, huge.Capacity);
        pool.Return(huge, 4 * Large); // too large to keep: freed

        NativeBuffer next = await Task.Run(() => pool.Rent(Large)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(huge, next);
    }

    [Fact]
    public void A_returned_buffer_is_reused_for_a_payload_it_can_hold()
    {
        using var pool = new NbdLargePayloadPool(4 * Large);
        NativeBuffer buffer = pool.Rent(Large);
        pool.Return(buffer, Large);

        Assert.Same(buffer, pool.Rent(Large - 4096));
    }

    [Fact]
    public void Kept_buffers_stay_within_the_budget_the_oldest_going_first()
    {
        using var pool = new NbdLargePayloadPool(2 * Large);
        NativeBuffer oldest = pool.Rent(Large);
        NativeBuffer newer = pool.Rent(Large);
        pool.Return(oldest, Large);
        pool.Return(newer, Large);
        NativeBuffer larger = pool.Rent(2 * Large); // neither fits: a new one
        pool.Return(larger, 2 * Large); // evicts both to make room

        Assert.Same(larger, pool.Rent(Large));
    }
}
