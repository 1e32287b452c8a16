using Dmp.Nbd;

namespace Dmp.Tests.Nbd;

public sealed class NbdPayloadBudgetTests
{
    private const int Large = 1 << 20;

    [Fact]
    public async Task A_large_payload_waits_until_the_budget_has_room_for_it()
    {
        var budget = new NbdPayloadBudget(2 * Large);
        budget.Acquire(Large);
        budget.Acquire(Large);

        Task third = Task.Run(() => budget.Acquire(Large));
        await Task.Delay(50);
        Assert.False(third.IsCompleted);

        budget.Release(Large);
        await third.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Small_payloads_pass_a_full_budget_and_one_payload_larger_than_the_budget_passes_alone()
    {
        var budget = new NbdPayloadBudget(Large);
        Task acquisitions = Task.Run(() =>
        {
            budget.Acquire(4 * Large); // alone: let through, or it could never be served
            budget.Acquire(NbdRequest.InitialCapacity);
            budget.Release(NbdRequest.InitialCapacity);
            budget.Release(4 * Large);
            budget.Acquire(Large); // the budget is whole again
        });

        await acquisitions.WaitAsync(TimeSpan.FromSeconds(10)); // none of them may wait
    }
}
