using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Dmp.Native.DeviceMapper;

/// <summary>
/// Device-mapper through <c>/dev/mapper/control</c>, as libdevmapper drives it, without libdevmapper:
/// each call builds a <c>struct dm_ioctl</c> with its payload in one buffer, and grows the buffer
/// when the kernel says the answer did not fit.
/// </summary>
internal sealed unsafe class DeviceMapperControl : IDisposable
{
    public const string ControlPath = "/dev/mapper/control";

    private const int InitialBufferSize = 16 * 1024;
    private const int SpecAlignment = 8;
    private static readonly int HeaderSize = Unsafe.SizeOf<DmIoctl>();
    private static readonly int SpecSize = Unsafe.SizeOf<DmTargetSpec>();

    private readonly FileDescriptor _fd;

    private DeviceMapperControl(FileDescriptor fd) => _fd = fd;

    public static DeviceMapperControl Open() => new(FileDescriptor.Open(ControlPath, LibC.O_RDWR));

    /// <summary>DM_DEV_STATUS: the device called <paramref name="name"/>, or null when there is none.</summary>
    public DmDevice? Find(string name)
    {
        Reply reply = Run(DmCommand.DeviceStatus, name);
        return reply.ErrorNumber == LibC.ENXIO ? null : DeviceOf(reply.ThrowIfFailed($"status of {name}"), name);
    }

    /// <summary>
    /// Creates <paramref name="name"/> with <paramref name="table"/> live, as libdevmapper does: DM_DEV_CREATE,
    /// DM_TABLE_LOAD, then DM_DEV_SUSPEND without the suspend flag (a resume). Removes it again if any step fails.
    /// </summary>
    /// <param name="readOnly">Load the table read-only (DM_READONLY_FLAG): the dm device is then read-only.</param>
    public DmDevice Create(string name, IReadOnlyList<DmTarget> table, bool readOnly = false)
    {
        Reply created = Run(DmCommand.DeviceCreate, name);
        if (created.ErrorNumber == LibC.EBUSY)
        {
            throw new NativeException($"device-mapper device {name} already exists", LibC.EEXIST);
        }

        created.ThrowIfFailed($"create device-mapper device {name}");
        try
        {
            Run(DmCommand.TableLoad, name, readOnly ? DmIoctlFlags.ReadOnly : DmIoctlFlags.None, EncodeTable(table), (uint)table.Count)
                .ThrowIfFailed($"load the table of {name}");
            Run(DmCommand.DeviceSuspend, name).ThrowIfFailed($"resume {name}");
            return DeviceOf(Run(DmCommand.DeviceStatus, name).ThrowIfFailed($"status of {name}"), name);
        }
        catch
        {
            _ = Remove(name);
            throw;
        }
    }

    /// <summary>DM_DEV_REMOVE.</summary>
    /// <returns>0, or errno: EBUSY while the device is open, ENXIO when there is no such device.</returns>
    public int Remove(string name) => Run(DmCommand.DeviceRemove, name).ErrorNumber;

    /// <summary>DM_TABLE_STATUS with DM_STATUS_TABLE_FLAG: the live table of <paramref name="name"/>.</summary>
    public IReadOnlyList<DmTarget> Table(string name)
    {
        Reply reply = Run(DmCommand.TableStatus, name, DmIoctlFlags.StatusTable).ThrowIfFailed($"table of {name}");
        ReadOnlySpan<byte> data = reply.Data;
        var targets = new List<DmTarget>();
        int offset = 0;
        for (uint i = 0; i < reply.Header.TargetCount && offset + SpecSize <= data.Length; i++)
        {
            var spec = MemoryMarshal.Read<DmTargetSpec>(data[offset..]);
            ReadOnlySpan<byte> parameters = data[(offset + SpecSize)..];
            targets.Add(new DmTarget(spec.SectorStart, spec.Length, NativeString.Decode(new ReadOnlySpan<byte>(spec.TargetType, DmTargetSpec.TargetTypeLength)), NativeString.Decode(parameters)));
            offset = (int)spec.Next; // on output, relative to the first spec
        }

        return targets;
    }

    /// <summary>DM_TABLE_DEPS: the devices <paramref name="name"/> is mapped onto.</summary>
    public IReadOnlyList<DeviceNumber> Dependencies(string name)
    {
        ReadOnlySpan<byte> data = Run(DmCommand.TableDependencies, name).ThrowIfFailed($"dependencies of {name}").Data;
        int count = data.Length >= 8 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(data) : 0;
        var devices = new List<DeviceNumber>(count);
        for (int i = 0; i < count && 8 + (8 * (i + 1)) <= data.Length; i++)
        {
            devices.Add(DeviceNumber.Decode(BinaryPrimitives.ReadUInt64LittleEndian(data[(8 + (8 * i))..])));
        }

        return devices;
    }

    public void Dispose() => _fd.Dispose();

    /// <summary>The DM_TABLE_LOAD payload: each spec, its NUL-terminated parameters, padded to 8 bytes.</summary>
    internal static byte[] EncodeTable(IReadOnlyList<DmTarget> table)
    {
        var payload = new List<byte>();
        foreach (DmTarget target in table)
        {
            byte[] parameters = NativeString.NullTerminated(target.Parameters);
            int length = (SpecSize + parameters.Length + SpecAlignment - 1) & ~(SpecAlignment - 1);
            var spec = new DmTargetSpec { SectorStart = target.Start, Length = target.Length, Next = (uint)length };
            Encoding.UTF8.GetBytes(target.Type, new Span<byte>(spec.TargetType, DmTargetSpec.TargetTypeLength - 1));
            byte[] entry = new byte[length];
            MemoryMarshal.Write(entry, in spec);
            parameters.CopyTo(entry, SpecSize);
            payload.AddRange(entry);
        }

        return [.. payload];
    }

    private static DmDevice DeviceOf(Reply reply, string name) =>
        new(name, DeviceNumber.Decode(reply.Header.Device), reply.Header.OpenCount, (int)reply.Header.TargetCount);

    private Reply Run(DmCommand command, string name, DmIoctlFlags flags = DmIoctlFlags.None, ReadOnlySpan<byte> payload = default, uint targetCount = 0)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length >= DmIoctl.NameLength || nameBytes.Length == 0 || name.Contains('/'))
        {
            return new Reply(LibC.EINVAL, default, []);
        }

        for (int size = Math.Max(InitialBufferSize, HeaderSize + payload.Length); ; size *= 2)
        {
            byte[] buffer = new byte[size];
            var header = new DmIoctl
            {
                DataSize = (uint)size,
                DataStart = (uint)HeaderSize,
                TargetCount = targetCount,
                Flags = flags,
            };
            header.Version[0] = 4; // any 4.x kernel accepts 4.0.0, as libdevmapper sends
            nameBytes.CopyTo(new Span<byte>(header.Name, DmIoctl.NameLength));
            MemoryMarshal.Write(buffer, in header);
            payload.CopyTo(buffer.AsSpan(HeaderSize));

            fixed (byte* data = buffer)
            {
                if (LibC.ioctl(_fd.Value, unchecked((int)command), data) != 0)
                {
                    return new Reply(Errno.Last, default, []);
                }
            }

            header = MemoryMarshal.Read<DmIoctl>(buffer);
            if ((header.Flags & DmIoctlFlags.BufferFull) == 0)
            {
                int end = (int)Math.Min(header.DataSize, (uint)buffer.Length);
                int start = (int)Math.Min(header.DataStart, (uint)end);
                return new Reply(0, header, buffer[start..end]);
            }
        }
    }

    /// <summary>An ioctl's outcome: errno (0 on success), the header the kernel wrote back, and its data.</summary>
    private readonly record struct Reply(int ErrorNumber, DmIoctl Header, byte[] Data)
    {
        public Reply ThrowIfFailed(string operation) =>
            ErrorNumber == 0 ? this : throw new NativeException(operation, ErrorNumber);
    }
}
