using Dmp.Nbd;
using Dmp.Stats;
using Dmp.Storage;

namespace Dmp.Tests.Nbd;

public sealed class NbdExportTests : IDisposable
{
    private const long Size = 1 << 20;

    private readonly MemoryStore _store = new(Size);
    private readonly NbdExport _export;

    public NbdExportTests() => _export = new NbdExport(_store, new ModuleStatistics().AddDevice("test"));

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Written_data_reads_back()
    {
        byte[] data = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(NbdError.None, Execute(NbdCommand.Write, 8192, data));

        byte[] read = new byte[4096];
        Assert.Equal(NbdError.None, Execute(NbdCommand.Read, 8192, read));
        Assert.Equal(data, read);
    }

    [Fact]
    public void A_memory_store_lends_its_memory_only_for_reads_and_writes_that_may_be_carried_out()
    {
        Assert.True(_export.TryGetMemory(Header(NbdCommand.Write, 4096, 8192), out Span<byte> memory));
        memory.Fill(0x5a);
        byte[] read = new byte[8192];
        Assert.Equal(NbdError.None, Execute(NbdCommand.Read, 4096, read));
        Assert.All(read, b => Assert.Equal(0x5a, b));

        Assert.False(_export.TryGetMemory(Header(NbdCommand.Read, Size - 4096, 8192), out _)); // past the end
        Assert.False(_export.TryGetMemory(Header(NbdCommand.Trim, 0, 4096), out _));
        Assert.False(_export.TryGetMemory(Header(NbdCommand.Write, 0, 4096, NbdCommandFlags.NoHole), out _)); // a flag WRITE does not take
        var readOnly = new NbdExport(_store, new ModuleStatistics().AddDevice("read-only"), readOnly: true);
        Assert.False(readOnly.TryGetMemory(Header(NbdCommand.Write, 0, 4096), out _));
        using var zero = new ZeroStore(Size);
        Assert.False(new NbdExport(zero, new ModuleStatistics().AddDevice("zero")).TryGetMemory(Header(NbdCommand.Read, 0, 4096), out _));
    }

    private static NbdRequestHeader Header(NbdCommand command, long offset, uint length, NbdCommandFlags flags = NbdCommandFlags.None) =>
        new(flags, command, 1, (ulong)offset, length);

    [Fact]
    public void Reads_past_the_end_fail_with_einval_and_writes_with_enospc()
    {
        Assert.Equal(NbdError.InvalidArgument, Execute(NbdCommand.Read, Size - 512, new byte[1024]));
        Assert.Equal(NbdError.NoSpace, Execute(NbdCommand.Write, Size - 512, new byte[1024]));
        Assert.Equal(NbdError.NoSpace, Execute(NbdCommand.WriteZeroes, Size, length: 512));
        Assert.Equal(NbdError.InvalidArgument, Execute(NbdCommand.Trim, Size, length: 512));
    }

    [Fact]
    public void An_offset_that_would_overflow_is_out_of_range_not_a_crash()
    {
        var request = new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Read, 1, ulong.MaxValue - 10, 512);
        Assert.Equal(NbdError.InvalidArgument, _export.Execute(request, new byte[512]));
    }

    [Fact]
    public void The_last_byte_of_the_device_is_in_range()
    {
        Assert.Equal(NbdError.None, Execute(NbdCommand.Read, Size - 512, new byte[512]));
    }

    [Fact]
    public void Zero_length_requests_are_invalid()
    {
        Assert.Equal(NbdError.InvalidArgument, Execute(NbdCommand.Read, 0, []));
        Assert.Equal(NbdError.InvalidArgument, Execute(NbdCommand.Trim, 0, length: 0));
    }

    [Fact]
    public void Reads_larger_than_the_kernels_limit_are_invalid()
    {
        using var store = new ZeroStore(1L << 40);
        var export = new NbdExport(store, new ModuleStatistics().AddDevice("test"));
        var request = new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Read, 1, 0, NbdProtocol.MaxPayloadLength + 512);
        Assert.Equal(NbdError.InvalidArgument, export.Execute(request, []));
    }

    [Theory]
    [InlineData((ushort)NbdCommand.BlockStatus)]
    [InlineData((ushort)NbdCommand.Resize)]
    [InlineData(99)]
    public void Commands_that_are_not_served_get_einval(ushort command)
    {
        Assert.Equal(NbdError.InvalidArgument, Execute((NbdCommand)command, 0, length: 512));
    }

    [Fact]
    public void A_read_only_export_refuses_every_change_with_eperm()
    {
        var export = new NbdExport(_store, new ModuleStatistics().AddDevice("test"), readOnly: true);
        foreach (NbdCommand command in new[] { NbdCommand.Write, NbdCommand.Trim, NbdCommand.WriteZeroes })
        {
            var request = new NbdRequestHeader(NbdCommandFlags.None, command, 1, 0, 512);
            Assert.Equal(NbdError.NotPermitted, export.Execute(request, new byte[512]));
        }

        Assert.Equal(NbdError.None, export.Execute(new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Read, 1, 0, 512), new byte[512]));
        Assert.True((export.TransmissionFlags & NbdTransmissionFlags.ReadOnly) != 0);
    }

    [Theory]
    [InlineData((ushort)NbdCommand.Trim, (ushort)NbdCommandFlags.None)]
    [InlineData((ushort)NbdCommand.WriteZeroes, (ushort)NbdCommandFlags.None)]
    [InlineData((ushort)NbdCommand.WriteZeroes, (ushort)(NbdCommandFlags.NoHole | NbdCommandFlags.ForceUnitAccess))]
    public void Trimmed_and_zeroed_ranges_read_back_as_zeroes(ushort commandValue, ushort flagValue)
    {
        var command = (NbdCommand)commandValue;
        var flags = (NbdCommandFlags)flagValue;
        byte[] ones = Enumerable.Repeat((byte)0xff, 3 * 4096).ToArray();
        Assert.Equal(NbdError.None, Execute(NbdCommand.Write, 0, ones));

        // Not page aligned: whole pages are dropped and the ragged ends zeroed by hand.
        var request = new NbdRequestHeader(flags, command, 1, 100, 2 * 4096);
        Assert.Equal(NbdError.None, _export.Execute(request, []));

        byte[] read = new byte[3 * 4096];
        Assert.Equal(NbdError.None, Execute(NbdCommand.Read, 0, read));
        Assert.All(read[..100], b => Assert.Equal(0xff, b));
        Assert.All(read[100..(100 + 8192)], b => Assert.Equal(0, b));
        Assert.All(read[(100 + 8192)..], b => Assert.Equal(0xff, b));
    }

    [Theory]
    [InlineData((ushort)NbdCommand.Write)]
    [InlineData((ushort)NbdCommand.Trim)]
    [InlineData((ushort)NbdCommand.WriteZeroes)]
    public void Force_unit_access_flushes_after_the_command_and_reports_a_failed_flush(ushort commandValue)
    {
        var export = new NbdExport(new FailingStore(onlyFlush: true), new ModuleStatistics().AddDevice("test"));
        var command = (NbdCommand)commandValue;

        Assert.Equal(NbdError.None, export.Execute(new NbdRequestHeader(NbdCommandFlags.None, command, 1, 0, 512), new byte[512]));
        Assert.Equal(NbdError.InputOutput, export.Execute(new NbdRequestHeader(NbdCommandFlags.ForceUnitAccess, command, 1, 0, 512), new byte[512]));
    }

    [Fact]
    public void The_export_advertises_what_it_serves()
    {
        NbdTransmissionFlags expected = NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.SendFlush |
            NbdTransmissionFlags.SendFua | NbdTransmissionFlags.SendTrim | NbdTransmissionFlags.SendWriteZeroes |
            NbdTransmissionFlags.SendFastZero | NbdTransmissionFlags.SendCache | NbdTransmissionFlags.CanMultiConnection;
        Assert.Equal(expected, _export.TransmissionFlags);
    }

    [Fact]
    public void Flush_and_cache_succeed()
    {
        Assert.Equal(NbdError.None, Execute(NbdCommand.Flush, 0, length: 0));
        Assert.Equal(NbdError.None, Execute(NbdCommand.Cache, 0, length: 4096));
    }

    [Fact]
    public void A_failing_store_gives_eio()
    {
        var export = new NbdExport(new FailingStore(), new ModuleStatistics().AddDevice("test"));
        var request = new NbdRequestHeader(NbdCommandFlags.None, NbdCommand.Read, 1, 0, 512);
        Assert.Equal(NbdError.InputOutput, export.Execute(request, new byte[512]));
    }

    private int Execute(NbdCommand command, long offset, byte[] payload) =>
        _export.Execute(new NbdRequestHeader(NbdCommandFlags.None, command, 1, (ulong)offset, (uint)payload.Length), payload);

    private int Execute(NbdCommand command, long offset, uint length) =>
        _export.Execute(new NbdRequestHeader(NbdCommandFlags.None, command, 1, (ulong)offset, length), []);

    /// <summary>A store whose every operation fails as a dying disk would (EIO = 5), or only its flushes.</summary>
    private sealed class FailingStore(bool onlyFlush = false) : IBackingStore
    {
        private readonly int _error = onlyFlush ? 0 : 5;

        public long Size => 1 << 20;

        public string Description => "failing";

        public bool MayBlock => false;

        public int Read(Span<byte> destination, long offset) => _error;

        public int Write(ReadOnlySpan<byte> source, long offset) => _error;

        public int Flush() => 5;

        public int Trim(long offset, long length) => _error;

        public int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly) => _error;

        public void Dispose()
        {
        }
    }
}
