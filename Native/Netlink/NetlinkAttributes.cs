using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dmp.Native.Netlink;

/// <summary>Reads a run of netlink attributes (a message body or a nested attribute's payload).</summary>
internal readonly ref struct NetlinkAttributes
{
    private readonly ReadOnlySpan<byte> _data;

    public NetlinkAttributes(ReadOnlySpan<byte> data) => _data = data;

    public Enumerator GetEnumerator() => new(_data);

    /// <summary>Finds the first attribute of <paramref name="type"/> (nested flag ignored).</summary>
    public bool TryGet(ushort type, out ReadOnlySpan<byte> payload)
    {
        foreach (NetlinkAttribute attribute in this)
        {
            if (attribute.Type == type)
            {
                payload = attribute.Payload;
                return true;
            }
        }

        payload = default;
        return false;
    }

    public bool TryGetUInt32(ushort type, out uint value)
    {
        bool found = TryGet(type, out ReadOnlySpan<byte> payload) && payload.Length >= sizeof(uint);
        value = found ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : 0;
        return found;
    }

    public bool TryGetUInt16(ushort type, out ushort value)
    {
        bool found = TryGet(type, out ReadOnlySpan<byte> payload) && payload.Length >= sizeof(ushort);
        value = found ? BinaryPrimitives.ReadUInt16LittleEndian(payload) : (ushort)0;
        return found;
    }

    /// <summary>Returns a NUL-terminated string attribute without its terminator.</summary>
    public bool TryGetString(ushort type, out string value)
    {
        bool found = TryGet(type, out ReadOnlySpan<byte> payload);
        value = found ? NativeString.Decode(payload) : "";
        return found;
    }

    public ref struct Enumerator
    {
        private ReadOnlySpan<byte> _remaining;

        public Enumerator(ReadOnlySpan<byte> data) => _remaining = data;

        public NetlinkAttribute Current { get; private set; }

        public bool MoveNext()
        {
            int headerLength = Unsafe.SizeOf<NetlinkAttributeHeader>();
            if (_remaining.Length < headerLength)
            {
                return false;
            }

            var header = MemoryMarshal.Read<NetlinkAttributeHeader>(_remaining);
            if (header.Length < headerLength || header.Length > _remaining.Length)
            {
                // A malformed attribute ends the walk rather than reading past the message.
                _remaining = default;
                return false;
            }

            Current = new NetlinkAttribute(
                (ushort)(header.Type & Netlink.AttributeTypeMask),
                _remaining[headerLength..header.Length]);
            _remaining = _remaining[Math.Min(Netlink.Align(header.Length), _remaining.Length)..];
            return true;
        }
    }
}
