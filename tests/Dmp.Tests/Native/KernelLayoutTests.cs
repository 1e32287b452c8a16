using System.Diagnostics;
using System.Runtime.InteropServices;
using Dmp.Nbd;
using Dmp.Native;
using Dmp.Native.DeviceMapper;
using Dmp.Native.Fuse;
using Dmp.Native.IoUring;
using Dmp.Native.Nbd;
using Dmp.Native.Netlink;
using Dmp.Storage;

namespace Dmp.Tests.Native;

/// <summary>
/// Every struct and constant dmp copies from the kernel's uapi headers, compared with what gcc
/// says about those headers (layout.c prints sizeof, offsetof and the constants).
/// </summary>
public class KernelLayoutTests
{
    private static readonly Lazy<Dictionary<string, long>> Kernel = new(CompileAndRunLayoutProgram);

    public static TheoryData<string, string, string> Fields => new()
    {
        { "nlmsghdr", nameof(NetlinkMessageHeader), "nlmsg_len=Length nlmsg_type=Type nlmsg_flags=Flags nlmsg_seq=Sequence nlmsg_pid=PortId" },
        { "genlmsghdr", nameof(GenericNetlinkHeader), "cmd=Command version=Version reserved=Reserved" },
        { "nlattr", nameof(NetlinkAttributeHeader), "nla_len=Length nla_type=Type" },
        { "sockaddr_nl", nameof(NetlinkSocketAddress), "nl_family=Family nl_pad=Padding nl_pid=PortId nl_groups=Groups" },
        { "fuse_in_header", nameof(FuseInHeader), "len=Length opcode=Opcode unique=Unique nodeid=NodeId uid=Uid gid=Gid pid=Pid total_extlen=TotalExtensionLength padding=Padding" },
        { "fuse_out_header", nameof(FuseOutHeader), "len=Length error=Error unique=Unique" },
        { "fuse_init_in", nameof(FuseInitIn), "major=Major minor=Minor max_readahead=MaxReadahead flags=Flags" },
        { "fuse_init_out", nameof(FuseInitOut), "major=Major minor=Minor max_readahead=MaxReadahead flags=Flags max_background=MaxBackground congestion_threshold=CongestionThreshold max_write=MaxWrite time_gran=TimeGranularity max_pages=MaxPages map_alignment=MapAlignment flags2=Flags2" },
        { "fuse_attr", nameof(FuseAttr), "ino=Inode size=Size blocks=Blocks atime=AccessTime mtime=ModificationTime ctime=ChangeTime atimensec=AccessTimeNanoseconds mtimensec=ModificationTimeNanoseconds ctimensec=ChangeTimeNanoseconds mode=Mode nlink=LinkCount uid=Uid gid=Gid rdev=DeviceNumber blksize=BlockSize flags=Flags" },
        { "fuse_entry_out", nameof(FuseEntryOut), "nodeid=NodeId generation=Generation entry_valid=EntryValidSeconds attr_valid=AttrValidSeconds entry_valid_nsec=EntryValidNanoseconds attr_valid_nsec=AttrValidNanoseconds attr=Attr" },
        { "fuse_attr_out", nameof(FuseAttrOut), "attr_valid=AttrValidSeconds attr_valid_nsec=AttrValidNanoseconds dummy=Dummy attr=Attr" },
        { "fuse_open_in", nameof(FuseOpenIn), "flags=Flags open_flags=OpenFlags" },
        { "fuse_open_out", nameof(FuseOpenOut), "fh=FileHandle open_flags=OpenFlags" },
        { "fuse_read_in", nameof(FuseReadIn), "fh=FileHandle offset=Offset size=Size read_flags=ReadFlags lock_owner=LockOwner flags=Flags padding=Padding" },
        { "fuse_write_in", nameof(FuseWriteIn), "fh=FileHandle offset=Offset size=Size write_flags=WriteFlags lock_owner=LockOwner flags=Flags padding=Padding" },
        { "fuse_write_out", nameof(FuseWriteOut), "size=Size padding=Padding" },
        { "fuse_release_in", nameof(FuseReleaseIn), "fh=FileHandle flags=Flags release_flags=ReleaseFlags lock_owner=LockOwner" },
        { "fuse_setattr_in", nameof(FuseSetAttrIn), "valid=Valid padding=Padding fh=FileHandle size=Size lock_owner=LockOwner atime=AccessTime mtime=ModificationTime ctime=ChangeTime atimensec=AccessTimeNanoseconds mtimensec=ModificationTimeNanoseconds ctimensec=ChangeTimeNanoseconds mode=Mode unused4=Unused4 uid=Uid gid=Gid unused5=Unused5" },
        { "fuse_dirent", nameof(FuseDirentHeader), "ino=Inode off=NextOffset namelen=NameLength type=Type" },
        { "dm_ioctl", nameof(DmIoctl), "version=Version data_size=DataSize data_start=DataStart target_count=TargetCount open_count=OpenCount flags=Flags event_nr=EventNumber padding=Padding dev=Device name=Name uuid=Uuid data=Data" },
        { "dm_target_spec", nameof(DmTargetSpec), "sector_start=SectorStart length=Length status=Status next=Next target_type=TargetType" },
        { "io_uring_sqe", nameof(IoUringSubmissionEntry), "opcode=Opcode flags=Flags ioprio=IoPriority fd=FileDescriptor off=Offset addr=Address len=Length rw_flags=OperationFlags user_data=UserData buf_index=BufferIndex personality=Personality splice_fd_in=SpliceFileDescriptorIn addr3=Address3 __pad2=Padding2" },
        { "io_uring_cqe", nameof(IoUringCompletionEntry), "user_data=UserData res=Result flags=Flags" },
        { "io_sqring_offsets", nameof(IoUringSubmissionRingOffsets), "head=Head tail=Tail ring_mask=RingMask ring_entries=RingEntries flags=Flags dropped=Dropped array=Array resv1=Reserved1 resv2=Reserved2" },
        { "io_cqring_offsets", nameof(IoUringCompletionRingOffsets), "head=Head tail=Tail ring_mask=RingMask ring_entries=RingEntries overflow=Overflow cqes=Entries flags=Flags resv1=Reserved1 resv2=Reserved2" },
        { "io_uring_params", nameof(IoUringParameters), "sq_entries=SubmissionEntries cq_entries=CompletionEntries flags=Flags sq_thread_cpu=SubmissionThreadCpu sq_thread_idle=SubmissionThreadIdle features=Features wq_fd=WorkQueueFd resv=Reserved sq_off=SubmissionRing cq_off=CompletionRing" },
        { "statfs", nameof(FileSystemStatistics), "f_type=Type" },
        { "pollfd", nameof(PollDescriptor), "fd=Descriptor events=Events revents=ReturnedEvents" },
        { "fuse_interrupt_in", nameof(FuseInterruptIn), "unique=Unique" },
        { "fuse_statfs_out", nameof(FuseStatfsOut), "st.blocks=Blocks st.bfree=FreeBlocks st.bavail=AvailableBlocks st.files=Files st.ffree=FreeFiles st.bsize=BlockSize st.namelen=NameLength st.frsize=FragmentSize st.padding=Padding st.spare=Spare" },
    };

    public static TheoryData<string, long> Constants => new()
    {
        { "NBD_REQUEST_MAGIC", NbdProtocol.RequestMagic },
        { "NBD_REPLY_MAGIC", NbdProtocol.SimpleReplyMagic },
        { "sizeof(nbd_request)", NbdProtocol.RequestHeaderLength },
        { "sizeof(nbd_reply)", NbdProtocol.SimpleReplyLength },
        { "NETLINK_GENERIC", Netlink.GenericProtocol },
        { "SOL_NETLINK", Netlink.SocketOptionLevel },
        { "NETLINK_EXT_ACK", Netlink.ExtendedAckOption },
        { "NLM_F_REQUEST", Netlink.RequestFlag },
        { "NLM_F_ACK", Netlink.AckFlag },
        { "NLM_F_ACK_TLVS", Netlink.AckHasTlvsFlag },
        { "NLM_F_CAPPED", Netlink.CappedFlag },
        { "NLMSG_ERROR", Netlink.ErrorMessage },
        { "NLMSG_DONE", Netlink.DoneMessage },
        { "NLMSGERR_ATTR_MSG", Netlink.ErrorAttributeMessage },
        { "NLA_F_NESTED", Netlink.NestedFlag },
        { "NLA_TYPE_MASK", Netlink.AttributeTypeMask },
        { "NLMSG_ALIGNTO", Netlink.MessageAlignment },
        { "GENL_ID_CTRL", Netlink.ControllerFamilyId },
        { "CTRL_CMD_GETFAMILY", Netlink.ControllerGetFamily },
        { "CTRL_ATTR_FAMILY_ID", Netlink.ControllerFamilyIdAttribute },
        { "CTRL_ATTR_FAMILY_NAME", Netlink.ControllerFamilyNameAttribute },
        { "NBD_CMD_CONNECT", (long)NbdNetlinkCommand.Connect },
        { "NBD_CMD_DISCONNECT", (long)NbdNetlinkCommand.Disconnect },
        { "NBD_CMD_RECONFIGURE", (long)NbdNetlinkCommand.Reconfigure },
        { "NBD_CMD_LINK_DEAD", (long)NbdNetlinkCommand.LinkDead },
        { "NBD_CMD_STATUS", (long)NbdNetlinkCommand.Status },
        { "NBD_ATTR_INDEX", (long)NbdNetlinkAttribute.Index },
        { "NBD_ATTR_SIZE_BYTES", (long)NbdNetlinkAttribute.SizeBytes },
        { "NBD_ATTR_BLOCK_SIZE_BYTES", (long)NbdNetlinkAttribute.BlockSizeBytes },
        { "NBD_ATTR_TIMEOUT", (long)NbdNetlinkAttribute.Timeout },
        { "NBD_ATTR_SERVER_FLAGS", (long)NbdNetlinkAttribute.ServerFlags },
        { "NBD_ATTR_CLIENT_FLAGS", (long)NbdNetlinkAttribute.ClientFlags },
        { "NBD_ATTR_SOCKETS", (long)NbdNetlinkAttribute.Sockets },
        { "NBD_ATTR_DEAD_CONN_TIMEOUT", (long)NbdNetlinkAttribute.DeadConnectionTimeout },
        { "NBD_ATTR_DEVICE_LIST", (long)NbdNetlinkAttribute.DeviceList },
        { "NBD_ATTR_BACKEND_IDENTIFIER", (long)NbdNetlinkAttribute.BackendIdentifier },
        { "NBD_SOCK_ITEM", NbdNetlinkClient.SocketItem },
        { "NBD_SOCK_FD", NbdNetlinkClient.SocketFd },
        { "NBD_CMD_READ", (long)NbdCommand.Read },
        { "NBD_CMD_WRITE", (long)NbdCommand.Write },
        { "NBD_CMD_DISC", (long)NbdCommand.Disconnect },
        { "NBD_CMD_FLUSH", (long)NbdCommand.Flush },
        { "NBD_CMD_TRIM", (long)NbdCommand.Trim },
        { "NBD_FLAG_HAS_FLAGS", (long)NbdTransmissionFlags.HasFlags },
        { "NBD_FLAG_READ_ONLY", (long)NbdTransmissionFlags.ReadOnly },
        { "NBD_FLAG_SEND_FLUSH", (long)NbdTransmissionFlags.SendFlush },
        { "NBD_FLAG_SEND_FUA", (long)NbdTransmissionFlags.SendFua },
        { "NBD_FLAG_SEND_TRIM", (long)NbdTransmissionFlags.SendTrim },
        { "NBD_FLAG_CAN_MULTI_CONN", (long)NbdTransmissionFlags.CanMultiConnection },
        { "FUSE_KERNEL_VERSION", FuseProtocol.MajorVersion },
        { "FUSE_ROOT_ID", (long)FuseProtocol.RootNodeId },
        { "FUSE_MIN_READ_BUFFER", FuseProtocol.MinimumReadBuffer },
        { "PR_SET_IO_FLUSHER", MemoryPressure.SetIoFlusher },
        { "PR_GET_IO_FLUSHER", MemoryPressure.GetIoFlusher },
        { "SEEK_DATA", PositionalIo.SeekData },
        { "SEEK_HOLE", PositionalIo.SeekHole },
        { "FOPEN_DIRECT_IO", (long)FuseOpenReplyFlags.DirectIo },
        { "FOPEN_NONSEEKABLE", (long)FuseOpenReplyFlags.NonSeekable },
        { "FOPEN_STREAM", (long)FuseOpenReplyFlags.Stream },
        { "FUSE_LOOKUP", (long)FuseOpcode.Lookup },
        { "FUSE_FORGET", (long)FuseOpcode.Forget },
        { "FUSE_GETATTR", (long)FuseOpcode.GetAttr },
        { "FUSE_SETATTR", (long)FuseOpcode.SetAttr },
        { "FUSE_OPEN", (long)FuseOpcode.Open },
        { "FUSE_READ", (long)FuseOpcode.Read },
        { "FUSE_WRITE", (long)FuseOpcode.Write },
        { "FUSE_STATFS", (long)FuseOpcode.Statfs },
        { "FUSE_RELEASE", (long)FuseOpcode.Release },
        { "FUSE_FLUSH", (long)FuseOpcode.Flush },
        { "FUSE_INIT", (long)FuseOpcode.Init },
        { "FUSE_OPENDIR", (long)FuseOpcode.OpenDir },
        { "FUSE_READDIR", (long)FuseOpcode.ReadDir },
        { "FUSE_RELEASEDIR", (long)FuseOpcode.ReleaseDir },
        { "FUSE_ACCESS", (long)FuseOpcode.Access },
        { "FUSE_INTERRUPT", (long)FuseOpcode.Interrupt },
        { "FUSE_DESTROY", (long)FuseOpcode.Destroy },
        { "FUSE_BATCH_FORGET", (long)FuseOpcode.BatchForget },
        { "FATTR_MODE", (long)FuseSetAttrValid.Mode },
        { "FATTR_UID", (long)FuseSetAttrValid.Uid },
        { "FATTR_GID", (long)FuseSetAttrValid.Gid },
        { "FATTR_SIZE", (long)FuseSetAttrValid.Size },
        { "FATTR_ATIME", (long)FuseSetAttrValid.AccessTime },
        { "FATTR_MTIME", (long)FuseSetAttrValid.ModificationTime },
        { "FATTR_FH", (long)FuseSetAttrValid.FileHandle },
        { "FATTR_ATIME_NOW", (long)FuseSetAttrValid.AccessTimeNow },
        { "FATTR_MTIME_NOW", (long)FuseSetAttrValid.ModificationTimeNow },
        { "FATTR_LOCKOWNER", (long)FuseSetAttrValid.LockOwner },
        { "FATTR_CTIME", (long)FuseSetAttrValid.ChangeTime },
        { "DM_VERSION", (long)DmCommand.Version },
        { "DM_LIST_DEVICES", (long)DmCommand.ListDevices },
        { "DM_DEV_CREATE", (long)DmCommand.DeviceCreate },
        { "DM_DEV_REMOVE", (long)DmCommand.DeviceRemove },
        { "DM_DEV_SUSPEND", (long)DmCommand.DeviceSuspend },
        { "DM_DEV_STATUS", (long)DmCommand.DeviceStatus },
        { "DM_TABLE_LOAD", (long)DmCommand.TableLoad },
        { "DM_TABLE_DEPS", (long)DmCommand.TableDependencies },
        { "DM_TABLE_STATUS", (long)DmCommand.TableStatus },
        { "DM_READONLY_FLAG", (long)DmIoctlFlags.ReadOnly },
        { "DM_SUSPEND_FLAG", (long)DmIoctlFlags.Suspend },
        { "DM_PERSISTENT_DEV_FLAG", (long)DmIoctlFlags.PersistentDevice },
        { "DM_STATUS_TABLE_FLAG", (long)DmIoctlFlags.StatusTable },
        { "DM_ACTIVE_PRESENT_FLAG", (long)DmIoctlFlags.ActivePresent },
        { "DM_INACTIVE_PRESENT_FLAG", (long)DmIoctlFlags.InactivePresent },
        { "DM_BUFFER_FULL_FLAG", (long)DmIoctlFlags.BufferFull },
        { "DM_NAME_LEN", DmIoctl.NameLength },
        { "DM_UUID_LEN", DmIoctl.UuidLength },
        { "DM_MAX_TYPE_NAME", DmTargetSpec.TargetTypeLength },
        { "BLKGETSIZE64", unchecked((uint)BlockDevice.GetSize64) },
        { "BLKSSZGET", BlockDevice.GetLogicalBlockSize },
        { "BLKDISCARD", BlockDevice.Discard },
        { "BLKZEROOUT", BlockDevice.ZeroOut },
        { "FALLOC_FL_ZERO_RANGE", PositionalIo.ZeroRange },
        { "FALLOC_FL_PUNCH_HOLE", PositionalIo.PunchHole },
        { "FALLOC_FL_KEEP_SIZE", PositionalIo.KeepSize },
        { "IORING_OP_NOP", (long)IoUringOpcode.Nop },
        { "IORING_OP_FSYNC", (long)IoUringOpcode.Fsync },
        { "IORING_OP_POLL_ADD", (long)IoUringOpcode.PollAdd },
        { "IORING_OP_READ", (long)IoUringOpcode.Read },
        { "IORING_OP_WRITE", (long)IoUringOpcode.Write },
        { "IORING_FSYNC_DATASYNC", IoUringSubmissionEntry.FsyncDataOnly },
        { "RWF_DSYNC", IoUringSubmissionEntry.WriteDataSync },
        { "POLLIN", IoUringSubmissionEntry.PollIn },
        { "IORING_ENTER_GETEVENTS", IoRing.EnterGetEvents },
        { "IORING_OFF_SQ_RING", IoRing.RingsMapOffset },
        { "IORING_OFF_SQES", IoRing.SubmissionEntriesMapOffset },
        { "IORING_FEAT_SINGLE_MMAP", IoUringParameters.FeatureSingleMmap },
        { "IORING_FEAT_NODROP", IoUringParameters.FeatureNoDrop },
        { "IORING_FEAT_RW_CUR_POS", IoUringParameters.FeatureReadWriteCurrentPosition },
        { "__NR_io_uring_setup", IoRing.SetupSyscall },
        { "__NR_io_uring_enter", IoRing.EnterSyscall },
        { "__NR_io_uring_register", IoRing.RegisterSyscall },
        { "IORING_REGISTER_FILES", IoRing.RegisterFilesOpcode },
        { "IORING_UNREGISTER_FILES", IoRing.UnregisterFilesOpcode },
        { "IOSQE_FIXED_FILE", IoUringSubmissionEntry.FixedFile },
        { "RWF_NOWAIT", PositionalIo.NoWait },
        { "TMPFS_MAGIC", PositionalIo.TmpfsMagic },
        { "RAMFS_MAGIC", PositionalIo.RamfsMagic },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void Structs_match_the_kernel_headers(string kernelStruct, string typeName, string fieldMap)
    {
        Type type = typeof(FuseMount).Assembly.GetTypes().Single(candidate => candidate.Name == typeName);
        if (Kernel.Value.TryGetValue($"sizeof({kernelStruct})", out long size))
        {
            Assert.Equal(size, Marshal.SizeOf(type));
        }

        foreach (string pair in fieldMap.Split(' '))
        {
            string[] names = pair.Split('=');
            Assert.True(Kernel.Value.TryGetValue($"{kernelStruct}.{names[0]}", out long offset), $"layout.c prints {kernelStruct}.{names[0]}");
            Assert.Equal((kernelStruct, names[0], offset), (kernelStruct, names[0], (long)Marshal.OffsetOf(type, names[1])));
        }
    }

    [Theory]
    [MemberData(nameof(Constants))]
    public void Constants_match_the_kernel_headers(string name, long value)
    {
        Assert.True(Kernel.Value.TryGetValue(name, out long expected), $"layout.c prints {name}");
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData(43, 0)]
    [InlineData(254, 3)]
    [InlineData(259, 300)]
    [InlineData(4095, 1048575)]
    [InlineData(4096, 256)]
    public void Device_numbers_are_encoded_as_glibc_makedev_does(uint major, uint minor)
    {
        var device = new DeviceNumber(major, minor);
        Assert.Equal(Kernel.Value[$"makedev({major},{minor})"], (long)device.Encode());
        Assert.Equal(device, DeviceNumber.Decode(device.Encode()));
        Assert.Equal($"{major}:{minor}", device.ToString());
    }

    private static Dictionary<string, long> CompileAndRunLayoutProgram()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Native", "layout.c");
        string program = Path.Combine(Path.GetTempPath(), $"dmp-layout-{Environment.ProcessId}");
        try
        {
            Run("gcc", "-Wall", "-Werror", "-o", program, source);
            return Run(program).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(fields => fields[0], fields => long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(program);
        }
    }

    private static string Run(string program, params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed: {errors}");
        return output;
    }
}
