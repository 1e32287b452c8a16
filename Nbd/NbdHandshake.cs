using System.Buffers.Binary;
using System.Text;
using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// The fixed-newstyle handshake on a freshly accepted connection: the greeting, then option haggling
/// until the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME), aborts, or misbehaves.
/// Options dmp does not implement (structured replies, metadata contexts) get the protocol's
/// error reply and the client may carry on. With TLS, NBD_OPT_STARTTLS moves the rest of the connection
/// into an <see cref="NbdTlsTunnel"/>; under <see cref="NbdTlsMode.Require"/> nothing else is served before it.
/// </summary>
internal sealed class NbdHandshake
{
    private const int OptionHeaderLength = 16;
    private const int OptionReplyHeaderLength = 20;

    private readonly NbdExportCatalog _catalog;
    private readonly NbdTls? _tls;
    private readonly Func<string?> _admit;
    private int _socket;
    private bool _noZeroes;

    /// <summary>Set once NBD_OPT_STARTTLS succeeded: <see cref="_socket"/> is then its plain end.</summary>
    private NbdTlsTunnel? _tunnel;

    private NbdHandshake(int socket, NbdExportCatalog catalog, Func<string?> admit, NbdTls? tls)
    {
        _socket = socket;
        _catalog = catalog;
        _admit = admit;
        _tls = tls;
    }

    /// <param name="admit">Asked once the client has chosen an export: null lets it in (and counts it), otherwise
    /// why it may not come in now, which a GO's error reply carries to the client.</param>
    /// <param name="tls">The server's TLS credentials and mode, or null when TLS is off.</param>
    public static NbdHandshakeResult Negotiate(int socket, NbdExportCatalog catalog, Func<string?> admit, NbdTls? tls = null)
    {
        var handshake = new NbdHandshake(socket, catalog, admit, tls);
        NbdHandshakeResult result;
        try
        {
            result = handshake.Run();
        }
        catch (HandshakeEndedException ended)
        {
            result = NbdHandshakeResult.Ended(ended.Message.Length > 0 ? ended.Message : null);
        }

        if (result.Export is null)
        {
            handshake._tunnel?.Dispose();
        }

        return result with { Tunnel = result.Export is null ? null : handshake._tunnel };
    }

    /// <summary>Under <see cref="NbdTlsMode.Require"/>, TLS has not begun yet: every option but STARTTLS and ABORT is refused.</summary>
    private bool TlsRequired => _tls?.Mode == NbdTlsMode.Require && _tunnel is null;

    private NbdHandshakeResult Run()
    {
        Span<byte> greeting = stackalloc byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(greeting, NbdProtocol.HandshakeMagic);
        BinaryPrimitives.WriteUInt64BigEndian(greeting[8..], NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt16BigEndian(greeting[16..], (ushort)(NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes));
        Send(greeting, default);

        Span<byte> clientFlags = stackalloc byte[4];
        Receive(clientFlags, atStart: true);
        var flags = (NbdHandshakeFlags)BinaryPrimitives.ReadUInt32BigEndian(clientFlags);
        if ((flags & ~(NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes)) != 0)
        {
            throw new HandshakeEndedException($"unknown client flags 0x{(uint)flags:x}");
        }

        _noZeroes = (flags & NbdHandshakeFlags.NoZeroes) != 0;
        while (true)
        {
            (NbdOption option, byte[] data) = ReceiveOption();
            NbdHandshakeResult? result = option switch
            {
                NbdOption.Abort => Abort(),
                NbdOption.StartTls => StartTls(data),
                NbdOption.ExportName when TlsRequired =>
                    throw new HandshakeEndedException("NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS, and TLS is required"),
                _ when TlsRequired => Refuse(option, NbdOptionReplyType.ErrorTlsRequired, "TLS is required: send NBD_OPT_STARTTLS first"),
                NbdOption.ExportName => ExportName(data),
                NbdOption.List => List(data),
                NbdOption.Info or NbdOption.Go => InfoOrGo(option, data),
                NbdOption.StructuredReply => Refuse(option, NbdOptionReplyType.ErrorUnsupported, "structured replies are not supported"),
                NbdOption.ListMetaContext or NbdOption.SetMetaContext =>
                    Refuse(option, NbdOptionReplyType.ErrorUnsupported, "metadata contexts are not supported"),
                _ => Refuse(option, NbdOptionReplyType.ErrorUnsupported, $"option {(uint)option} is not supported"),
            };
            if (result is not null)
            {
                return result;
            }
        }
    }

    /// <summary>NBD_OPT_STARTTLS: acknowledged, then the TLS handshake, after which every byte goes through the tunnel.</summary>
    private NbdHandshakeResult? StartTls(byte[] data)
    {
        if (_tls is null)
        {
            return Refuse(NbdOption.StartTls, NbdOptionReplyType.ErrorUnsupported, "TLS is not supported");
        }

        if (_tunnel is not null)
        {
            return Refuse(NbdOption.StartTls, NbdOptionReplyType.ErrorInvalid, "TLS has already begun");
        }

        if (data.Length != 0)
        {
            return Refuse(NbdOption.StartTls, NbdOptionReplyType.ErrorInvalid, "NBD_OPT_STARTTLS takes no data");
        }

        Reply(NbdOption.StartTls, NbdOptionReplyType.Ack, []);
        _tunnel = _tls.Secure(_socket, out string? failure) ?? throw new HandshakeEndedException(failure!);
        _socket = _tunnel.Plain.Value;
        return null;
    }

    /// <summary>NBD_OPT_EXPORT_NAME: no reply header; an unknown name can only end the connection.</summary>
    private NbdHandshakeResult ExportName(byte[] data)
    {
        string name = Encoding.UTF8.GetString(data);
        (string Name, NbdExport Export) chosen = _catalog.Find(name) ?? throw new HandshakeEndedException($"no export named '{name}'");
        if (_admit() is string refusal)
        {
            throw new HandshakeEndedException(refusal);
        }

        byte[] reply = new byte[10 + (_noZeroes ? 0 : NbdProtocol.ExportNamePadding)];
        BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)chosen.Export.Size);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), (ushort)chosen.Export.TransmissionFlags);
        Send(reply, default);
        return NbdHandshakeResult.Chosen(chosen.Name, chosen.Export);
    }

    private NbdHandshakeResult Abort()
    {
        try
        {
            Reply(NbdOption.Abort, NbdOptionReplyType.Ack, []);
        }
        catch (HandshakeEndedException)
        {
            // The client may close without waiting for the acknowledgement.
        }

        return NbdHandshakeResult.Ended(null);
    }

    private NbdHandshakeResult? List(byte[] data)
    {
        if (data.Length != 0)
        {
            return Refuse(NbdOption.List, NbdOptionReplyType.ErrorInvalid, "NBD_OPT_LIST takes no data");
        }

        foreach ((string name, _) in _catalog.List())
        {
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] entry = new byte[4 + nameBytes.Length];
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)nameBytes.Length);
            nameBytes.CopyTo(entry, 4);
            Reply(NbdOption.List, NbdOptionReplyType.Server, entry);
        }

        Reply(NbdOption.List, NbdOptionReplyType.Ack, []);
        return null;
    }

    /// <summary>NBD_OPT_INFO and NBD_OPT_GO: name, requested information, then the export (GO only).</summary>
    private NbdHandshakeResult? InfoOrGo(NbdOption option, byte[] data)
    {
        ReadOnlySpan<byte> request = data;
        if (request.Length < 6)
        {
            return Refuse(option, NbdOptionReplyType.ErrorInvalid, "request too short");
        }

        uint nameLength = BinaryPrimitives.ReadUInt32BigEndian(request);
        if (nameLength > request.Length - 6)
        {
            return Refuse(option, NbdOptionReplyType.ErrorInvalid, "name longer than the request");
        }

        string name = Encoding.UTF8.GetString(request.Slice(4, (int)nameLength));
        ReadOnlySpan<byte> items = request[(4 + (int)nameLength)..];
        int count = BinaryPrimitives.ReadUInt16BigEndian(items);
        if (items.Length != 2 + (2 * count))
        {
            return Refuse(option, NbdOptionReplyType.ErrorInvalid, "information requests do not match their count");
        }

        if (_catalog.Find(name) is not { } chosen)
        {
            return Refuse(option, NbdOptionReplyType.ErrorUnknown, $"no export named '{name}'");
        }

        if (option == NbdOption.Go && _admit() is string refusal)
        {
            return Refuse(option, NbdOptionReplyType.ErrorPolicy, refusal);
        }

        var requested = new HashSet<NbdInfoType>();
        for (int i = 0; i < count; i++)
        {
            requested.Add((NbdInfoType)BinaryPrimitives.ReadUInt16BigEndian(items[(2 + (2 * i))..]));
        }

        byte[] export = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(export, (ushort)NbdInfoType.Export);
        BinaryPrimitives.WriteUInt64BigEndian(export.AsSpan(2), (ulong)chosen.Export.Size);
        BinaryPrimitives.WriteUInt16BigEndian(export.AsSpan(10), (ushort)chosen.Export.TransmissionFlags);
        Reply(option, NbdOptionReplyType.Info, export);
        if (requested.Contains(NbdInfoType.Name))
        {
            Reply(option, NbdOptionReplyType.Info, TextItem(NbdInfoType.Name, chosen.Name));
        }

        if (requested.Contains(NbdInfoType.Description))
        {
            Reply(option, NbdOptionReplyType.Info, TextItem(NbdInfoType.Description, chosen.Export.Store.Description));
        }

        // Sent whether asked or not (the protocol allows it): clients then keep within 32 MiB.
        byte[] blockSize = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(blockSize, (ushort)NbdInfoType.BlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(blockSize.AsSpan(2), NbdProtocol.MinimumBlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(blockSize.AsSpan(6), NbdProtocol.PreferredBlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(blockSize.AsSpan(10), NbdProtocol.MaxPayloadLength);
        Reply(option, NbdOptionReplyType.Info, blockSize);
        Reply(option, NbdOptionReplyType.Ack, []);
        return option == NbdOption.Go ? NbdHandshakeResult.Chosen(chosen.Name, chosen.Export) : null;
    }

    private static byte[] TextItem(NbdInfoType type, string text)
    {
        byte[] bytes = new byte[2 + Encoding.UTF8.GetByteCount(text)];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)type);
        Encoding.UTF8.GetBytes(text, bytes.AsSpan(2));
        return bytes;
    }

    /// <summary>An error reply with a message for the user; the client may send further options.</summary>
    private NbdHandshakeResult? Refuse(NbdOption option, NbdOptionReplyType error, string message)
    {
        Reply(option, error, Encoding.UTF8.GetBytes(message));
        return null;
    }

    private (NbdOption Option, byte[] Data) ReceiveOption()
    {
        Span<byte> header = stackalloc byte[OptionHeaderLength];
        Receive(header, atStart: true);
        if (BinaryPrimitives.ReadUInt64BigEndian(header) != NbdProtocol.OptionMagic)
        {
            throw new HandshakeEndedException("bad option magic");
        }

        var option = (NbdOption)BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
        if (length > NbdProtocol.MaxOptionLength)
        {
            // Its data cannot be skipped at no cost, and the protocol lets the server hang up on it.
            throw new HandshakeEndedException($"option {(uint)option} of {length} bytes is too long");
        }

        byte[] data = new byte[length];
        Receive(data, atStart: false);
        return (option, data);
    }

    private void Reply(NbdOption option, NbdOptionReplyType type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[OptionReplyHeaderLength];
        BinaryPrimitives.WriteUInt64BigEndian(header, NbdProtocol.OptionReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)option);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)type);
        BinaryPrimitives.WriteUInt32BigEndian(header[16..], (uint)data.Length);
        Send(header, data);
    }

    private void Send(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        int status = StreamSocket.SendAll(_socket, header, data);
        if (status != 0)
        {
            throw new HandshakeEndedException($"send failed: {Errno.Describe(status)}");
        }
    }

    /// <param name="atStart">The client may close here without breaking the protocol.</param>
    private void Receive(Span<byte> buffer, bool atStart)
    {
        int status = StreamSocket.ReceiveExactly(_socket, buffer);
        if (status == StreamSocket.EndOfStream)
        {
            throw new HandshakeEndedException(atStart ? "" : "the client closed in the middle of an option");
        }

        if (status != 0)
        {
            throw new HandshakeEndedException($"receive failed: {Errno.Describe(status)}");
        }
    }

    /// <summary>Ends the handshake from deep inside it; never escapes <see cref="Negotiate"/>.</summary>
    private sealed class HandshakeEndedException(string message) : Exception(message);
}
