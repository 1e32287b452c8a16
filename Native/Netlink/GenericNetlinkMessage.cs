using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary>
/// Builds one generic-netlink request: <c>nlmsghdr</c>, <c>genlmsghdr</c>, then attributes,
/// each aligned to 4 bytes. Control path only, so it simply grows a byte array.
/// </summary>
internal sealed class GenericNetlinkMessage
{
    private static readonly int HeadersLength =
        Unsafe.SizeOf<NetlinkMessageHeader>() + Unsafe.SizeOf<GenericNetlinkHeader>();

    private byte[] _buffer = new byte[256];
    private int _length;

    public GenericNetlinkMessage(ushort familyId, byte command, byte version)
    {
        FamilyId = familyId;
        var header = new GenericNetlinkHeader { Command = command, Version = version };
        MemoryMarshal.Write(_buffer.AsSpan(Unsafe.SizeOf<NetlinkMessageHeader>()), in header);
        _length = HeadersLength;
    }

    public ushort FamilyId { get; }

    public GenericNetlinkMessage AddUInt32(ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(AddAttribute(type, sizeof(uint)), value);
        return this;
    }

    public GenericNetlinkMessage AddUInt64(ushort type, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(AddAttribute(type, sizeof(ulong)), value);
        return this;
    }

    /// <summary>Adds a NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING).</summary>
    public GenericNetlinkMessage AddString(ushort type, string value)
    {
        System.Text.Encoding.UTF8.GetBytes(value, AddAttribute(type, System.Text.Encoding.UTF8.GetByteCount(value) + 1)); // cleared: the NUL is there
        return this;
    }

    /// <summary>Opens a nested attribute; every attribute added until <see cref="EndNested"/> goes inside it.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        AddAttribute((ushort)(type | Netlink.NestedFlag), 0);
        return start;
    }

    public void EndNested(int start)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));
    }

    /// <summary>Finishes the netlink header and returns the bytes to send.</summary>
    public ReadOnlySpan<byte> Complete(uint sequence, ushort flags)
    {
        var header = new NetlinkMessageHeader
        {
            Length = (uint)_length,
            Type = FamilyId,
            Flags = flags,
            Sequence = sequence,
        };
        MemoryMarshal.Write(_buffer, in header);
        return _buffer.AsSpan(0, _length);
    }

    private Span<byte> AddAttribute(ushort type, int payloadLength)
    {
        int headerLength = Unsafe.SizeOf<NetlinkAttributeHeader>();
        int total = Netlink.Align(headerLength + payloadLength);
        if (_length + total > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + total));
        }

        Span<byte> attribute = _buffer.AsSpan(_length, total);
        attribute.Clear();
        var header = new NetlinkAttributeHeader { Length = (ushort)(headerLength + payloadLength), Type = type };
        MemoryMarshal.Write(attribute, in header);
        _length += total;
        return attribute.Slice(headerLength, payloadLength);
    }
}
