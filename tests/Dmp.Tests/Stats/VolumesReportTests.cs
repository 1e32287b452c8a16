using Dmp.Stats;

namespace Dmp.Tests.Stats;

public class VolumesReportTests
{
    [Fact]
    public void The_text_is_the_original_modules_for_the_numbers_in_its_readme()
    {
        IoCounters counters = default;
        counters[IoOperation.Read] = new OperationCounters(176, 176 * 4096, 0);
        counters[IoOperation.Write] = new OperationCounters(7, 7 * 1024, 0);

        Assert.Equal(
            "read:\n reqs: 176\n avg size: 4096\nwrite:\n reqs: 7\n avg size: 1024\ntotal:\n reqs: 183\n avg size: 3978\n",
            VolumesReport.Format(counters));
    }

    [Fact]
    public void Empty_counters_print_zero_averages()
    {
        Assert.Equal(
            "read:\n reqs: 0\n avg size: 0\nwrite:\n reqs: 0\n avg size: 0\ntotal:\n reqs: 0\n avg size: 0\n",
            VolumesReport.Format(default));
    }

    [Fact]
    public void Write_zeroes_count_as_writes_and_discards_and_flushes_not_at_all()
    {
        IoCounters counters = default;
        counters[IoOperation.Write] = new OperationCounters(1, 512, 0);
        counters[IoOperation.WriteZeroes] = new OperationCounters(1, 4096, 0);
        counters[IoOperation.Discard] = new OperationCounters(5, 1 << 20, 0);
        counters[IoOperation.Flush] = new OperationCounters(9, 0, 0);

        Assert.Equal(
            "read:\n reqs: 0\n avg size: 0\nwrite:\n reqs: 2\n avg size: 2304\ntotal:\n reqs: 2\n avg size: 2304\n",
            VolumesReport.Format(counters));
    }
}
