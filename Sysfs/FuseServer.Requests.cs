using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Dmp.Native;
using Dmp.Native.Fuse;
using Tmds.Linux;

namespace Dmp.Sysfs;

internal sealed partial class FuseServer
{
    private readonly Dictionary<ulong, OpenAttribute> _openFiles = [];
    private ulong _nextFileHandle = 1;

    /// <summary>Where replies are put together: one thread sends them, one at a time.</summary>
    private byte[] _reply = new byte[RequestBufferSize];

    /// <summary>Answers one request.</summary>
    /// <returns>False when the kernel ended the session (DESTROY).</returns>
    internal bool Dispatch(ReadOnlySpan<byte> request)
    {
        if (request.Length < Unsafe.SizeOf<FuseInHeader>())
        {
            _log($"short FUSE request of {request.Length} bytes");
            return true;
        }

        var header = MemoryMarshal.Read<FuseInHeader>(request);
        ReadOnlySpan<byte> body = request[Unsafe.SizeOf<FuseInHeader>()..];
        try
        {
            switch (header.Opcode)
            {
                case FuseOpcode.Forget or FuseOpcode.BatchForget:
                    break; // no reply is expected; nodes live as long as the tree
                case FuseOpcode.Interrupt:
                    Interrupt(Body<FuseInterruptIn>(body).Unique); // only a parked read can still be interrupted
                    break;
                case FuseOpcode.Init:
                    Init(header, body);
                    break;
                case FuseOpcode.Lookup:
                    Lookup(header, body);
                    break;
                case FuseOpcode.GetAttr:
                    ReplyAttributes(header);
                    break;
                case FuseOpcode.SetAttr:
                    SetAttributes(header, body);
                    break;
                case FuseOpcode.ReadLink:
                    ReadLink(header);
                    break;
                case FuseOpcode.Open:
                    Open(header, body);
                    break;
                case FuseOpcode.Read:
                    Read(header, body);
                    break;
                case FuseOpcode.Write:
                    Write(header, body);
                    break;
                case FuseOpcode.Release:
                    ulong released = Body<FuseReleaseIn>(body).FileHandle;
                    _openFiles.Remove(released);
                    ReleaseStream(released);
                    ReplyEmpty(header);
                    break;
                case FuseOpcode.OpenDir:
                    OpenDirectory(header);
                    break;
                case FuseOpcode.ReadDir:
                    ReadDirectory(header, body);
                    break;
                case FuseOpcode.Flush or FuseOpcode.ReleaseDir:
                    ReplyEmpty(header);
                    break;
                case FuseOpcode.Statfs:
                    ReplyStruct(header, new FuseStatfsOut { BlockSize = 4096, NameLength = 255, FragmentSize = 4096 });
                    break;
                case FuseOpcode.Destroy:
                    ReplyEmpty(header);
                    return false;
                default:
                    // The kernel remembers ENOSYS for most optional operations and stops asking.
                    ReplyError(header, LibC.ENOSYS);
                    break;
            }
        }
        catch (Exception exception)
        {
            _log($"FUSE {header.Opcode} failed: {exception.Message}");
            ReplyError(header, LibC.EIO);
        }

        return true;
    }

    private void Init(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var init = Body<FuseInitIn>(body);
        if (init.Major != FuseProtocol.MajorVersion)
        {
            ReplyError(header, LibC.EPROTO);
            return;
        }

        ReplyStruct(header, new FuseInitOut
        {
            Major = FuseProtocol.MajorVersion,
            Minor = Math.Min(init.Minor, FuseProtocol.MinorVersion),
            MaxReadahead = init.MaxReadahead,
            MaxWrite = 4096, // sysfs takes at most a page per write
            MaxBackground = 16,
            CongestionThreshold = 12,
        });
    }

    private void Lookup(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        string name = Encoding.UTF8.GetString(body[..Math.Max(0, body.IndexOf((byte)0))]);
        if (_tree.Find(header.NodeId) is not SysfsDirectory parent || _tree.Lookup(parent, name) is not { } node)
        {
            ReplyError(header, LibC.ENOENT);
            return;
        }

        ReplyStruct(header, new FuseEntryOut
        {
            NodeId = node.Id,
            EntryValidSeconds = ValiditySeconds,
            AttrValidSeconds = ValiditySeconds,
            Attr = AttributesOf(node),
        });
    }

    private void ReplyAttributes(in FuseInHeader header)
    {
        if (_tree.Find(header.NodeId) is not { } node)
        {
            ReplyError(header, LibC.ENOENT);
            return;
        }

        ReplyStruct(header, new FuseAttrOut { AttrValidSeconds = ValiditySeconds, Attr = AttributesOf(node) });
    }

    /// <summary>Truncation (from <c>echo 1 &gt; reset</c>) and time changes are accepted and ignored, as
    /// sysfs does; ownership and mode stay fixed.</summary>
    private void SetAttributes(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var change = Body<FuseSetAttrIn>(body);
        if ((change.Valid & (FuseSetAttrValid.Mode | FuseSetAttrValid.Uid | FuseSetAttrValid.Gid)) != 0)
        {
            ReplyError(header, LibC.EPERM);
            return;
        }

        ReplyAttributes(header);
    }

    private void ReadLink(in FuseInHeader header)
    {
        if (_tree.Find(header.NodeId) is SysfsLink link)
        {
            Reply(header, Encoding.UTF8.GetBytes(link.Target));
        }
        else
        {
            ReplyError(header, LibC.EINVAL);
        }
    }

    /// <summary>Like kernfs: opening for reading needs a show, for writing a store, else EACCES
    /// (root passes the mode check, so the kernel alone would let it open either way).</summary>
    private void Open(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        int access = Body<FuseOpenIn>(body).Flags & LibC.O_ACCMODE;
        bool reads = access is 0 /* O_RDONLY */ || access == LibC.O_RDWR;
        bool writes = access == LibC.O_WRONLY || access == LibC.O_RDWR;
        SysfsNode? node = _tree.Find(header.NodeId);
        if (node is SysfsStream stream)
        {
            OpenStream(header, stream, writes);
            return;
        }

        if (node is not SysfsAttribute attribute)
        {
            ReplyError(header, LibC.EISDIR);
            return;
        }

        if ((reads && attribute.Show is null) || (writes && attribute.Store is null))
        {
            ReplyError(header, LibC.EACCES);
            return;
        }

        ulong handle = _nextFileHandle++;
        _openFiles[handle] = new OpenAttribute(attribute);
        ReplyStruct(header, new FuseOpenOut { FileHandle = handle, OpenFlags = FuseOpenReplyFlags.DirectIo });
    }

    /// <summary>A read from offset 0 renders a fresh snapshot; reads further on continue that snapshot,
    /// so a reader that takes the text in pieces never sees two versions mixed.</summary>
    private void Read(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var read = Body<FuseReadIn>(body);
        if (_openStreams.TryGetValue(read.FileHandle, out ISysfsStreamReader? stream))
        {
            ReadStream(header, stream, read.FileHandle, (int)Math.Min(read.Size, FuseProtocol.MaxReadSize));
            return;
        }

        if (!_openFiles.TryGetValue(read.FileHandle, out OpenAttribute? file) || file.Attribute.Show is null)
        {
            ReplyError(header, LibC.EBADF);
            return;
        }

        if (read.Offset == 0 || file.Content is null)
        {
            file.Content = Encoding.UTF8.GetBytes(file.Attribute.Show());
        }

        int start = (int)Math.Min(read.Offset, (ulong)file.Content.Length);
        int length = (int)Math.Min(read.Size, (uint)(file.Content.Length - start));
        Reply(header, file.Content.AsSpan(start, length));
    }

    private void Write(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var write = Body<FuseWriteIn>(body);
        if (!_openFiles.TryGetValue(write.FileHandle, out OpenAttribute? file) || file.Attribute.Store is null)
        {
            ReplyError(header, LibC.EBADF);
            return;
        }

        int dataStart = Unsafe.SizeOf<FuseWriteIn>();
        if (body.Length < dataStart || write.Size > body.Length - dataStart)
        {
            ReplyError(header, LibC.EINVAL); // the data is shorter than the request says
            return;
        }

        ReadOnlySpan<byte> data = body.Slice(dataStart, (int)write.Size);
        int error = file.Attribute.Store(data);
        if (error != 0)
        {
            ReplyError(header, error);
            return;
        }

        ReplyStruct(header, new FuseWriteOut { Size = write.Size });
    }

    private void OpenDirectory(in FuseInHeader header)
    {
        if (_tree.Find(header.NodeId) is not SysfsDirectory)
        {
            ReplyError(header, LibC.ENOTDIR);
            return;
        }

        ReplyStruct(header, new FuseOpenOut());
    }

    /// <summary>Entries are ".", "..", then the children; each entry's offset cookie is its index + 1.</summary>
    private void ReadDirectory(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var read = Body<FuseReadIn>(body);
        if (_tree.Find(header.NodeId) is not SysfsDirectory directory)
        {
            ReplyError(header, LibC.ENOTDIR);
            return;
        }

        SysfsNode[] children = _tree.List(directory);
        int size = (int)Math.Min(read.Size, FuseProtocol.MaxReadSize); // the kernel asks for a page; whatever it says, no more than a read
        byte[] entries = new byte[size]; // zeroed: the padding after each name stays 0
        int used = 0;
        for (int index = (int)Math.Min(read.Offset, (ulong)children.Length + 2); index < children.Length + 2; index++)
        {
            (string name, ulong inode, uint type) = index switch
            {
                0 => (".", directory.Id, FuseProtocol.DirectoryEntryTypeDirectory),
                1 => ("..", (directory.Parent ?? directory).Id, FuseProtocol.DirectoryEntryTypeDirectory),
                _ => (children[index - 2].Name, children[index - 2].Id, children[index - 2] switch
                {
                    SysfsDirectory => FuseProtocol.DirectoryEntryTypeDirectory,
                    SysfsLink => FuseProtocol.DirectoryEntryTypeLink,
                    _ => FuseProtocol.DirectoryEntryTypeRegular,
                }),
            };
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            int entryLength = (Unsafe.SizeOf<FuseDirentHeader>() + nameBytes.Length + 7) & ~7;
            if (used + entryLength > size)
            {
                break;
            }

            var dirent = new FuseDirentHeader
            {
                Inode = inode,
                NextOffset = (ulong)index + 1,
                NameLength = (uint)nameBytes.Length,
                Type = type,
            };
            MemoryMarshal.Write(entries.AsSpan(used), in dirent);
            nameBytes.CopyTo(entries, used + Unsafe.SizeOf<FuseDirentHeader>());
            used += entryLength;
        }

        Reply(header, entries.AsSpan(0, used));
    }

    private FuseAttr AttributesOf(SysfsNode node) => new()
    {
        Inode = node.Id,
        Size = node switch
        {
            SysfsAttribute => (ulong)SysfsAttribute.ReportedSize,
            SysfsLink link => (ulong)Encoding.UTF8.GetByteCount(link.Target),
            _ => 0,
        },
        Mode = node.Mode,
        LinkCount = node is SysfsDirectory ? 2u : 1u,
        BlockSize = 4096,
        AccessTime = _mountTime,
        ModificationTime = _mountTime,
        ChangeTime = _mountTime,
    };

    private static T Body<T>(ReadOnlySpan<byte> body)
        where T : unmanaged
    {
        // Older kernels send shorter versions of some structs; the missing tail reads as zero.
        Span<byte> padded = stackalloc byte[Unsafe.SizeOf<T>()];
        padded.Clear();
        body[..Math.Min(body.Length, padded.Length)].CopyTo(padded);
        return MemoryMarshal.Read<T>(padded);
    }

    private void ReplyStruct<T>(in FuseInHeader header, T value)
        where T : unmanaged =>
        Reply(header, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    private void ReplyEmpty(in FuseInHeader header) => Reply(header, []);

    private void ReplyError(in FuseInHeader header, int errno) => Send(header.Unique, -errno, []);

    private void Reply(in FuseInHeader header, ReadOnlySpan<byte> body) => Send(header.Unique, 0, body);

    /// <param name="status">0, or a negative errno (an error reply is the header alone).</param>
    private void Send(ulong unique, int status, ReadOnlySpan<byte> body)
    {
        body.CopyTo(ReplyBody(body.Length));
        SendReply(unique, status, body.Length);
    }

    /// <summary>Room for a reply's body of <paramref name="length"/> bytes, behind its header, to fill before <see cref="SendReply"/>.</summary>
    private Span<byte> ReplyBody(int length)
    {
        int headerLength = Unsafe.SizeOf<FuseOutHeader>();
        if (_reply.Length < headerLength + length)
        {
            _reply = new byte[headerLength + length];
        }

        return _reply.AsSpan(headerLength, length);
    }

    /// <summary>Sends the reply whose body <see cref="ReplyBody"/> gave room for.</summary>
    private void SendReply(ulong unique, int status, int bodyLength)
    {
        int length = Unsafe.SizeOf<FuseOutHeader>() + bodyLength;
        var header = new FuseOutHeader { Length = (uint)length, Error = status, Unique = unique };
        MemoryMarshal.Write(_reply, in header);

        // ENOENT: the request was interrupted and the kernel no longer wants the answer.
        int error = FuseDevice.WriteReply(_device.Value, _reply.AsSpan(0, length));
        if (error != 0 && error != LibC.ENOENT)
        {
            _log($"write /dev/fuse: {Errno.Describe(error)}");
        }
    }

    /// <summary>An open attribute file and the snapshot its reads are served from.</summary>
    private sealed class OpenAttribute(SysfsAttribute attribute)
    {
        public SysfsAttribute Attribute { get; } = attribute;

        public byte[]? Content { get; set; }
    }
}
