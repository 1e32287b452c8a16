namespace Dmp.Native.Netlink;

/// <summary>Constants of linux/netlink.h and linux/genetlink.h that dmp uses.</summary>
internal static class Netlink
{
    public const int AddressFamily = 16;       // AF_NETLINK
    public const int GenericProtocol = 16;     // NETLINK_GENERIC
    public const int SocketOptionLevel = 270;  // SOL_NETLINK
    public const int ExtendedAckOption = 11;   // NETLINK_EXT_ACK

    public const ushort RequestFlag = 0x1;     // NLM_F_REQUEST
    public const ushort AckFlag = 0x4;         // NLM_F_ACK
    public const ushort AckHasTlvsFlag = 0x200; // NLM_F_ACK_TLVS: extended-ack attributes follow the error
    public const ushort CappedFlag = 0x100;    // NLM_F_CAPPED: the echoed request was cut to its header

    public const ushort ErrorMessage = 2;      // NLMSG_ERROR
    public const ushort DoneMessage = 3;       // NLMSG_DONE
    public const ushort ErrorAttributeMessage = 1; // NLMSGERR_ATTR_MSG

    public const ushort NestedFlag = 0x8000;   // NLA_F_NESTED
    public const ushort AttributeTypeMask = 0x3fff;

    public const ushort ControllerFamilyId = 0x10;   // GENL_ID_CTRL
    public const byte ControllerGetFamily = 3;       // CTRL_CMD_GETFAMILY
    public const ushort ControllerFamilyIdAttribute = 1;   // CTRL_ATTR_FAMILY_ID
    public const ushort ControllerFamilyNameAttribute = 2; // CTRL_ATTR_FAMILY_NAME

    public const int MessageAlignment = 4;     // NLMSG_ALIGNTO and NLA_ALIGNTO

    public static int Align(int length) => (length + MessageAlignment - 1) & ~(MessageAlignment - 1);
}
