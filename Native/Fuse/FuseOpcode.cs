namespace Dmp.Native.Fuse;

/// <summary>Request opcodes (<c>enum fuse_opcode</c>) that a sysfs-like tree meets.</summary>
internal enum FuseOpcode : uint
{
    Lookup = 1,
    Forget = 2,
    GetAttr = 3,
    SetAttr = 4,
    ReadLink = 5,
    Open = 14,
    Read = 15,
    Write = 16,
    Statfs = 17,
    Release = 18,
    Flush = 25,
    Init = 26,
    OpenDir = 27,
    ReadDir = 28,
    ReleaseDir = 29,
    Access = 34,
    Interrupt = 36,
    Destroy = 38,
    BatchForget = 42,
}
