using System.Runtime.InteropServices;
using Dmp.Native;
using Dmp.Native.IoUring;
using Tmds.Linux;

namespace Dmp.Tests.Native;

/// <summary>The io_uring layer on its own, against the host's kernel.</summary>
public sealed unsafe partial class IoRingTests : IDisposable
{
    private readonly IoRing _ring = IoRing.Create(8);
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"dmp-ioring-{Guid.NewGuid():N}");

    public void Dispose()
    {
        _ring.Dispose();
        File.Delete(_file);
    }

    [Fact]
    public void The_host_kernel_offers_io_uring()
    {
        Assert.Null(IoRing.Unavailable);
        Assert.Equal(8u, _ring.SubmissionCapacity);
        Assert.Equal(16u, _ring.CompletionCapacity);
    }

    [Fact]
    public void A_submission_completes_with_its_own_user_data()
    {
        _ring.NextSubmission().PrepareNop(userData: 0xDEADBEEF_12345678);
        Assert.Equal(1u, _ring.Pending);
        Assert.Equal(0, _ring.SubmitAndWait(1));
        Assert.Equal(0u, _ring.Pending);

        Assert.True(_ring.TryTakeCompletion(out IoUringCompletionEntry completion));
        Assert.Equal((0xDEADBEEF_12345678UL, 0), (completion.UserData, completion.Result));
        Assert.False(_ring.TryTakeCompletion(out _));
    }

    [Fact]
    public void Writes_reads_and_a_data_sync_reach_the_file()
    {
        using var buffer = new NativeBuffer(8192);
        using FileDescriptor file = FileDescriptor.Open(_file, LibC.O_RDWR | LibC.O_CREAT, 0x1a4);
        buffer.Span[..4096].Fill(0x5A);
        byte* memory = AddressOf(buffer);
        _ring.NextSubmission().PrepareWrite(file.Value, memory, 4096, 4096, IoUringSubmissionEntry.WriteDataSync, 1);
        _ring.NextSubmission().PrepareDataSync(file.Value, 2);
        Assert.Equal([(1UL, 4096), (2UL, 0)], WaitForAll(2).Order());

        _ring.NextSubmission().PrepareRead(file.Value, memory + 4096, 4096, 4096, 3);
        Assert.Equal([(3UL, 4096)], WaitForAll(1));
        Assert.Equal(buffer.Span[..4096].ToArray(), buffer.Span[4096..].ToArray());
        Assert.Equal(buffer.Span[..4096].ToArray(), File.ReadAllBytes(_file)[4096..]);
    }

    [Fact]
    public void Errors_come_back_as_negative_errno()
    {
        using var buffer = new NativeBuffer(4096);
        byte* memory = AddressOf(buffer);
        File.WriteAllBytes(_file, new byte[8192]);
        using FileDescriptor file = FileDescriptor.Open(_file, LibC.O_RDONLY);
        _ring.NextSubmission().PrepareRead(-1, memory, 512, 0, 1);
        _ring.NextSubmission().PrepareRead(file.Value, memory, 512, -2, 2); // a negative offset (-1 would mean "the file position")

        Assert.Equal([(1UL, -LibC.EBADF), (2UL, -LibC.EINVAL)], WaitForAll(2).Order());
    }

    [Fact]
    public void An_entry_naming_a_registered_file_uses_its_fixed_slot_and_reaches_the_file()
    {
        using var buffer = new NativeBuffer(4096);
        using FileDescriptor unrelated = FileDescriptor.Open("/dev/null", LibC.O_RDONLY);
        using FileDescriptor file = FileDescriptor.Open(_file, LibC.O_RDWR | LibC.O_CREAT, 0x1a4);
        Assert.Equal(0, _ring.RegisterFiles([unrelated.Value, file.Value]));
        buffer.Span.Fill(0x3C);

        ref IoUringSubmissionEntry entry = ref _ring.NextSubmission();
        entry.PrepareWrite(file.Value, AddressOf(buffer), 4096, 0, 0, 1);
        _ring.UseRegisteredFile(ref entry);
        Assert.Equal((1, IoUringSubmissionEntry.FixedFile), (entry.FileDescriptor, entry.Flags));
        Assert.Equal([(1UL, 4096)], WaitForAll(1));
        Assert.Equal(buffer.Span.ToArray(), File.ReadAllBytes(_file));

        ref IoUringSubmissionEntry other = ref _ring.NextSubmission();
        other.PrepareDataSync(unrelated.Value + file.Value + 1, 2); // no registered descriptor: left as it is
        _ring.UseRegisteredFile(ref other);
        Assert.Equal((unrelated.Value + file.Value + 1, (byte)0), (other.FileDescriptor, other.Flags));
        Assert.Equal([(2UL, -LibC.EBADF)], WaitForAll(1));
    }

    [Fact]
    public void A_registered_file_stays_open_after_its_descriptor_closes_until_the_ring_is_disposed()
    {
        (FileDescriptor ours, FileDescriptor theirs) = StreamSocket.CreatePair();
        using (theirs)
        {
            Assert.Equal(0, _ring.RegisterFiles([ours.Value]));
            ours.Dispose();
            Assert.False(Poll.HasHungUp(theirs.Value), "the ring still holds the other end");

            _ring.Dispose();
            Assert.True(Poll.HasHungUp(theirs.Value, patience: 1000), "disposing the ring closed it");
        }
    }

    [Fact]
    public void A_full_ring_submits_what_it_holds_to_make_room()
    {
        int count = (int)_ring.SubmissionCapacity * 2 + 3;
        for (int i = 0; i < count; i++)
        {
            _ring.NextSubmission().PrepareNop((ulong)i);
            Assert.True(_ring.Pending <= _ring.SubmissionCapacity);
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => ((ulong)i, 0)), WaitForAll(count).Order());
    }

    [Fact]
    public void A_poll_completes_once_the_socket_has_data()
    {
        (FileDescriptor ours, FileDescriptor theirs) = StreamSocket.CreatePair();
        using (ours)
        using (theirs)
        {
            _ring.NextSubmission().PreparePollIn(ours.Value, 7);
            Assert.Equal(0, _ring.Submit());
            Thread.Sleep(20);
            Assert.False(_ring.TryTakeCompletion(out _));

            Assert.Equal(0, StreamSocket.SendAll(theirs.Value, [1], default));
            Assert.Equal(7UL, WaitForAll(1).Single().UserData);
        }
    }

    [Fact]
    public void A_wait_interrupted_by_a_signal_says_EINTR_and_the_completion_still_comes()
    {
        using var counter = new EventCounter();
        using var wakes = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context => context.Cancel = true);
        ulong value;
        _ring.NextSubmission().PrepareRead(counter.Descriptor, (byte*)&value, sizeof(ulong), 0, 9);
        Assert.Equal(0, _ring.Submit());

        int interrupted = 0;
        nint waiter = 0;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            waiter = PthreadSelf();
            started.Set();
            while (_ring.SubmitAndWait(1) == LibC.EINTR)
            {
                interrupted++;
            }
        });
        thread.Start();
        started.Wait();
        for (int i = 0; i < 50 && interrupted == 0; i++)
        {
            Thread.Sleep(10);
            Assert.Equal(0, PthreadKill(waiter, (int)LibC.SIGWINCH));
        }

        counter.Signal();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));
        Assert.True(interrupted > 0, "the signal interrupted the wait");
        Assert.Equal([(9UL, sizeof(ulong))], WaitForAll(1));
    }

    private List<(ulong UserData, int Result)> WaitForAll(int count)
    {
        var completions = new List<(ulong, int)>();
        while (completions.Count < count)
        {
            Assert.Equal(0, _ring.SubmitAndWait(1));
            while (_ring.TryTakeCompletion(out IoUringCompletionEntry completion))
            {
                completions.Add((completion.UserData, completion.Result));
            }
        }

        return completions;
    }

    /// <summary>Native memory does not move: its address outlives the fixed statement.</summary>
    private static byte* AddressOf(NativeBuffer buffer)
    {
        fixed (byte* start = buffer.Span)
        {
            return start;
        }
    }

    [LibraryImport("libc", EntryPoint = "pthread_self")]
    private static partial nint PthreadSelf();

    [LibraryImport("libc", EntryPoint = "pthread_kill")]
    private static partial int PthreadKill(nint thread, int signal);
}
