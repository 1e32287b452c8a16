#define _GNU_SOURCE
/*
 * Prints the kernel's own view of every struct and constant dmp mirrors in C#, one
 * "name value" line each, so that the tests can compare them with the C# definitions.
 * Built with gcc against the installed uapi headers (Debian's linux-libc-dev).
 */
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/dm-ioctl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <linux/genetlink.h>
#include <linux/io_uring.h>
#include <linux/magic.h>
#include <linux/nbd.h>
#include <linux/nbd-netlink.h>
#include <linux/netlink.h>

#define SIZE(s) printf("sizeof(%s) %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("%s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define CONSTANT(c) printf("%s %lld\n", #c, (long long)(c))
#define DEVICE_NUMBER(major, minor) printf("makedev(%d,%d) %llu\n", major, minor, (unsigned long long)makedev(major, minor))

int main(void)
{
    SIZE(nlmsghdr);
    FIELD(nlmsghdr, nlmsg_len); FIELD(nlmsghdr, nlmsg_type); FIELD(nlmsghdr, nlmsg_flags);
    FIELD(nlmsghdr, nlmsg_seq); FIELD(nlmsghdr, nlmsg_pid);
    SIZE(genlmsghdr);
    FIELD(genlmsghdr, cmd); FIELD(genlmsghdr, version); FIELD(genlmsghdr, reserved);
    SIZE(nlattr);
    FIELD(nlattr, nla_len); FIELD(nlattr, nla_type);
    SIZE(sockaddr_nl);
    FIELD(sockaddr_nl, nl_family); FIELD(sockaddr_nl, nl_pad); FIELD(sockaddr_nl, nl_pid); FIELD(sockaddr_nl, nl_groups);

    SIZE(fuse_in_header);
    FIELD(fuse_in_header, len); FIELD(fuse_in_header, opcode); FIELD(fuse_in_header, unique);
    FIELD(fuse_in_header, nodeid); FIELD(fuse_in_header, uid); FIELD(fuse_in_header, gid);
    FIELD(fuse_in_header, pid); FIELD(fuse_in_header, total_extlen); FIELD(fuse_in_header, padding);
    SIZE(fuse_out_header);
    FIELD(fuse_out_header, len); FIELD(fuse_out_header, error); FIELD(fuse_out_header, unique);
    FIELD(fuse_init_in, major); FIELD(fuse_init_in, minor); FIELD(fuse_init_in, max_readahead); FIELD(fuse_init_in, flags);
    SIZE(fuse_init_out);
    FIELD(fuse_init_out, major); FIELD(fuse_init_out, minor); FIELD(fuse_init_out, max_readahead);
    FIELD(fuse_init_out, flags); FIELD(fuse_init_out, max_background); FIELD(fuse_init_out, congestion_threshold);
    FIELD(fuse_init_out, max_write); FIELD(fuse_init_out, time_gran); FIELD(fuse_init_out, max_pages);
    FIELD(fuse_init_out, map_alignment); FIELD(fuse_init_out, flags2);
    SIZE(fuse_attr);
    FIELD(fuse_attr, ino); FIELD(fuse_attr, size); FIELD(fuse_attr, blocks); FIELD(fuse_attr, atime);
    FIELD(fuse_attr, mtime); FIELD(fuse_attr, ctime); FIELD(fuse_attr, atimensec); FIELD(fuse_attr, mtimensec);
    FIELD(fuse_attr, ctimensec); FIELD(fuse_attr, mode); FIELD(fuse_attr, nlink); FIELD(fuse_attr, uid);
    FIELD(fuse_attr, gid); FIELD(fuse_attr, rdev); FIELD(fuse_attr, blksize); FIELD(fuse_attr, flags);
    SIZE(fuse_entry_out);
    FIELD(fuse_entry_out, nodeid); FIELD(fuse_entry_out, generation); FIELD(fuse_entry_out, entry_valid);
    FIELD(fuse_entry_out, attr_valid); FIELD(fuse_entry_out, entry_valid_nsec); FIELD(fuse_entry_out, attr_valid_nsec);
    FIELD(fuse_entry_out, attr);
    SIZE(fuse_attr_out);
    FIELD(fuse_attr_out, attr_valid); FIELD(fuse_attr_out, attr_valid_nsec); FIELD(fuse_attr_out, dummy);
    FIELD(fuse_attr_out, attr);
    SIZE(fuse_open_in);
    FIELD(fuse_open_in, flags); FIELD(fuse_open_in, open_flags);
    SIZE(fuse_open_out);
    FIELD(fuse_open_out, fh); FIELD(fuse_open_out, open_flags);
    SIZE(fuse_read_in);
    FIELD(fuse_read_in, fh); FIELD(fuse_read_in, offset); FIELD(fuse_read_in, size); FIELD(fuse_read_in, read_flags);
    FIELD(fuse_read_in, lock_owner); FIELD(fuse_read_in, flags); FIELD(fuse_read_in, padding);
    SIZE(fuse_write_in);
    FIELD(fuse_write_in, fh); FIELD(fuse_write_in, offset); FIELD(fuse_write_in, size); FIELD(fuse_write_in, write_flags);
    FIELD(fuse_write_in, lock_owner); FIELD(fuse_write_in, flags); FIELD(fuse_write_in, padding);
    SIZE(fuse_write_out);
    FIELD(fuse_write_out, size); FIELD(fuse_write_out, padding);
    SIZE(fuse_release_in);
    FIELD(fuse_release_in, fh); FIELD(fuse_release_in, flags); FIELD(fuse_release_in, release_flags);
    FIELD(fuse_release_in, lock_owner);
    SIZE(fuse_setattr_in);
    FIELD(fuse_setattr_in, valid); FIELD(fuse_setattr_in, padding); FIELD(fuse_setattr_in, fh);
    FIELD(fuse_setattr_in, size); FIELD(fuse_setattr_in, lock_owner); FIELD(fuse_setattr_in, atime);
    FIELD(fuse_setattr_in, mtime); FIELD(fuse_setattr_in, ctime); FIELD(fuse_setattr_in, atimensec);
    FIELD(fuse_setattr_in, mtimensec); FIELD(fuse_setattr_in, ctimensec); FIELD(fuse_setattr_in, mode);
    FIELD(fuse_setattr_in, unused4); FIELD(fuse_setattr_in, uid); FIELD(fuse_setattr_in, gid);
    FIELD(fuse_setattr_in, unused5);
    SIZE(fuse_dirent);
    FIELD(fuse_dirent, ino); FIELD(fuse_dirent, off); FIELD(fuse_dirent, namelen); FIELD(fuse_dirent, type);
    SIZE(fuse_statfs_out);
    FIELD(fuse_statfs_out, st.blocks); FIELD(fuse_statfs_out, st.bfree); FIELD(fuse_statfs_out, st.bavail);
    FIELD(fuse_statfs_out, st.files); FIELD(fuse_statfs_out, st.ffree); FIELD(fuse_statfs_out, st.bsize);
    FIELD(fuse_statfs_out, st.namelen); FIELD(fuse_statfs_out, st.frsize); FIELD(fuse_statfs_out, st.padding);
    FIELD(fuse_statfs_out, st.spare);

    SIZE(dm_ioctl);
    FIELD(dm_ioctl, version); FIELD(dm_ioctl, data_size); FIELD(dm_ioctl, data_start); FIELD(dm_ioctl, target_count);
    FIELD(dm_ioctl, open_count); FIELD(dm_ioctl, flags); FIELD(dm_ioctl, event_nr); FIELD(dm_ioctl, padding);
    FIELD(dm_ioctl, dev); FIELD(dm_ioctl, name); FIELD(dm_ioctl, uuid); FIELD(dm_ioctl, data);
    SIZE(dm_target_spec);
    FIELD(dm_target_spec, sector_start); FIELD(dm_target_spec, length); FIELD(dm_target_spec, status);
    FIELD(dm_target_spec, next); FIELD(dm_target_spec, target_type);
    CONSTANT(DM_VERSION); CONSTANT(DM_LIST_DEVICES); CONSTANT(DM_DEV_CREATE); CONSTANT(DM_DEV_REMOVE);
    CONSTANT(DM_DEV_SUSPEND); CONSTANT(DM_DEV_STATUS); CONSTANT(DM_TABLE_LOAD); CONSTANT(DM_TABLE_DEPS);
    CONSTANT(DM_TABLE_STATUS);
    CONSTANT(DM_READONLY_FLAG); CONSTANT(DM_SUSPEND_FLAG); CONSTANT(DM_PERSISTENT_DEV_FLAG); CONSTANT(DM_STATUS_TABLE_FLAG);
    CONSTANT(DM_ACTIVE_PRESENT_FLAG); CONSTANT(DM_INACTIVE_PRESENT_FLAG); CONSTANT(DM_BUFFER_FULL_FLAG);
    CONSTANT(DM_NAME_LEN); CONSTANT(DM_UUID_LEN); CONSTANT(DM_MAX_TYPE_NAME);

    SIZE(nbd_request);
    SIZE(nbd_reply);
    CONSTANT(NBD_REQUEST_MAGIC); CONSTANT(NBD_REPLY_MAGIC);

    CONSTANT(NETLINK_GENERIC); CONSTANT(SOL_NETLINK); CONSTANT(NETLINK_EXT_ACK);
    CONSTANT(NLM_F_REQUEST); CONSTANT(NLM_F_ACK); CONSTANT(NLM_F_ACK_TLVS); CONSTANT(NLM_F_CAPPED);
    CONSTANT(NLMSG_ERROR); CONSTANT(NLMSG_DONE); CONSTANT(NLMSGERR_ATTR_MSG); CONSTANT(NLA_F_NESTED);
    printf("NLA_TYPE_MASK %u\n", (unsigned short)NLA_TYPE_MASK); /* an int expression: ~(flags) */
    CONSTANT(NLMSG_ALIGNTO);
    CONSTANT(GENL_ID_CTRL); CONSTANT(CTRL_CMD_GETFAMILY); CONSTANT(CTRL_ATTR_FAMILY_ID); CONSTANT(CTRL_ATTR_FAMILY_NAME);
    CONSTANT(NBD_CMD_CONNECT); CONSTANT(NBD_CMD_DISCONNECT); CONSTANT(NBD_CMD_RECONFIGURE);
    CONSTANT(NBD_CMD_LINK_DEAD); CONSTANT(NBD_CMD_STATUS);
    CONSTANT(NBD_ATTR_INDEX); CONSTANT(NBD_ATTR_SIZE_BYTES); CONSTANT(NBD_ATTR_BLOCK_SIZE_BYTES);
    CONSTANT(NBD_ATTR_TIMEOUT); CONSTANT(NBD_ATTR_SERVER_FLAGS); CONSTANT(NBD_ATTR_CLIENT_FLAGS);
    CONSTANT(NBD_ATTR_SOCKETS); CONSTANT(NBD_ATTR_DEAD_CONN_TIMEOUT); CONSTANT(NBD_ATTR_DEVICE_LIST);
    CONSTANT(NBD_ATTR_BACKEND_IDENTIFIER);
    CONSTANT(NBD_SOCK_ITEM); CONSTANT(NBD_SOCK_FD);
    CONSTANT(NBD_CMD_READ); CONSTANT(NBD_CMD_WRITE); CONSTANT(NBD_CMD_DISC); CONSTANT(NBD_CMD_FLUSH);
    CONSTANT(NBD_CMD_TRIM);
    CONSTANT(NBD_FLAG_HAS_FLAGS); CONSTANT(NBD_FLAG_READ_ONLY); CONSTANT(NBD_FLAG_SEND_FLUSH);
    CONSTANT(NBD_FLAG_SEND_FUA); CONSTANT(NBD_FLAG_SEND_TRIM); CONSTANT(NBD_FLAG_CAN_MULTI_CONN);

    CONSTANT(FUSE_KERNEL_VERSION); CONSTANT(FUSE_ROOT_ID); CONSTANT(FUSE_MIN_READ_BUFFER); CONSTANT(FOPEN_DIRECT_IO); CONSTANT(FOPEN_NONSEEKABLE); CONSTANT(FOPEN_STREAM);
    CONSTANT(FUSE_LOOKUP); CONSTANT(FUSE_FORGET); CONSTANT(FUSE_GETATTR); CONSTANT(FUSE_SETATTR); CONSTANT(FUSE_OPEN);
    CONSTANT(FUSE_READ); CONSTANT(FUSE_WRITE); CONSTANT(FUSE_STATFS); CONSTANT(FUSE_RELEASE); CONSTANT(FUSE_FLUSH);
    CONSTANT(FUSE_INIT); CONSTANT(FUSE_OPENDIR); CONSTANT(FUSE_READDIR); CONSTANT(FUSE_RELEASEDIR);
    CONSTANT(FUSE_ACCESS); CONSTANT(FUSE_INTERRUPT); CONSTANT(FUSE_DESTROY); CONSTANT(FUSE_BATCH_FORGET);
    CONSTANT(FATTR_MODE); CONSTANT(FATTR_UID); CONSTANT(FATTR_GID); CONSTANT(FATTR_SIZE); CONSTANT(FATTR_ATIME);
    CONSTANT(FATTR_MTIME); CONSTANT(FATTR_FH); CONSTANT(FATTR_ATIME_NOW); CONSTANT(FATTR_MTIME_NOW);
    CONSTANT(FATTR_LOCKOWNER); CONSTANT(FATTR_CTIME);

    CONSTANT(BLKGETSIZE64); CONSTANT(BLKSSZGET); CONSTANT(BLKDISCARD); CONSTANT(BLKZEROOUT); CONSTANT(FALLOC_FL_ZERO_RANGE); CONSTANT(FALLOC_FL_PUNCH_HOLE); CONSTANT(FALLOC_FL_KEEP_SIZE);
    SIZE(io_uring_sqe);
    FIELD(io_uring_sqe, opcode); FIELD(io_uring_sqe, flags); FIELD(io_uring_sqe, ioprio); FIELD(io_uring_sqe, fd);
    FIELD(io_uring_sqe, off); FIELD(io_uring_sqe, addr); FIELD(io_uring_sqe, len); FIELD(io_uring_sqe, rw_flags);
    FIELD(io_uring_sqe, user_data); FIELD(io_uring_sqe, buf_index); FIELD(io_uring_sqe, personality);
    FIELD(io_uring_sqe, splice_fd_in); FIELD(io_uring_sqe, addr3); FIELD(io_uring_sqe, __pad2);
    SIZE(io_uring_cqe);
    FIELD(io_uring_cqe, user_data); FIELD(io_uring_cqe, res); FIELD(io_uring_cqe, flags);
    SIZE(io_sqring_offsets);
    FIELD(io_sqring_offsets, head); FIELD(io_sqring_offsets, tail); FIELD(io_sqring_offsets, ring_mask);
    FIELD(io_sqring_offsets, ring_entries); FIELD(io_sqring_offsets, flags); FIELD(io_sqring_offsets, dropped);
    FIELD(io_sqring_offsets, array); FIELD(io_sqring_offsets, resv1); FIELD(io_sqring_offsets, resv2);
    SIZE(io_cqring_offsets);
    FIELD(io_cqring_offsets, head); FIELD(io_cqring_offsets, tail); FIELD(io_cqring_offsets, ring_mask);
    FIELD(io_cqring_offsets, ring_entries); FIELD(io_cqring_offsets, overflow); FIELD(io_cqring_offsets, cqes);
    FIELD(io_cqring_offsets, flags); FIELD(io_cqring_offsets, resv1); FIELD(io_cqring_offsets, resv2);
    SIZE(io_uring_params);
    FIELD(io_uring_params, sq_entries); FIELD(io_uring_params, cq_entries); FIELD(io_uring_params, flags);
    FIELD(io_uring_params, sq_thread_cpu); FIELD(io_uring_params, sq_thread_idle); FIELD(io_uring_params, features);
    FIELD(io_uring_params, wq_fd); FIELD(io_uring_params, resv); FIELD(io_uring_params, sq_off); FIELD(io_uring_params, cq_off);
    CONSTANT(IORING_OP_NOP); CONSTANT(IORING_OP_FSYNC); CONSTANT(IORING_OP_POLL_ADD); CONSTANT(IORING_OP_READ);
    CONSTANT(IORING_OP_WRITE); CONSTANT(IORING_FSYNC_DATASYNC); CONSTANT(RWF_DSYNC); CONSTANT(POLLIN);
    CONSTANT(IORING_ENTER_GETEVENTS); CONSTANT(IORING_OFF_SQ_RING); CONSTANT(IORING_OFF_SQES);
    CONSTANT(IORING_FEAT_SINGLE_MMAP); CONSTANT(IORING_FEAT_NODROP); CONSTANT(IORING_FEAT_RW_CUR_POS);
    CONSTANT(__NR_io_uring_setup); CONSTANT(__NR_io_uring_enter); CONSTANT(__NR_io_uring_register);
    CONSTANT(IORING_REGISTER_FILES); CONSTANT(IORING_UNREGISTER_FILES); CONSTANT(IOSQE_FIXED_FILE);
    CONSTANT(RWF_NOWAIT); CONSTANT(TMPFS_MAGIC); CONSTANT(RAMFS_MAGIC);
    SIZE(statfs);
    FIELD(statfs, f_type);
    CONSTANT(PR_SET_IO_FLUSHER); CONSTANT(PR_GET_IO_FLUSHER); CONSTANT(SEEK_DATA); CONSTANT(SEEK_HOLE);
    SIZE(pollfd);
    FIELD(pollfd, fd); FIELD(pollfd, events); FIELD(pollfd, revents);
    SIZE(fuse_interrupt_in);
    FIELD(fuse_interrupt_in, unique);

    DEVICE_NUMBER(43, 0); DEVICE_NUMBER(254, 3); DEVICE_NUMBER(259, 300); DEVICE_NUMBER(4095, 1048575);
    DEVICE_NUMBER(4096, 256);
    return 0;
}
