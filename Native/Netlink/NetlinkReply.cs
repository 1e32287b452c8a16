namespace Dmp.Native.Netlink;

/// <summary>What the kernel answered to one request: errno (0 on success), its message, and the reply's attributes.</summary>
internal sealed class NetlinkReply
{
    public NetlinkReply(int errorNumber, string? kernelMessage, byte[] attributes)
    {
        ErrorNumber = errorNumber;
        KernelMessage = kernelMessage;
        Attributes = attributes;
    }

    public int ErrorNumber { get; }

    public string? KernelMessage { get; }

    public byte[] Attributes { get; }

    public void ThrowIfFailed(string operation)
    {
        if (ErrorNumber != 0)
        {
            throw new NativeException(KernelMessage is null ? operation : $"{operation} ({KernelMessage})", ErrorNumber);
        }
    }
}
