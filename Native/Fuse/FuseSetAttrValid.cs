namespace Dmp.Native.Fuse;

/// <summary><c>FATTR_*</c>: which fields of <see cref="FuseSetAttrIn"/> the kernel wants changed.</summary>
[Flags]
internal enum FuseSetAttrValid : uint
{
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    AccessTime = 1 << 4,
    ModificationTime = 1 << 5,
    FileHandle = 1 << 6,
    AccessTimeNow = 1 << 7,
    ModificationTimeNow = 1 << 8,
    LockOwner = 1 << 9,
    ChangeTime = 1 << 10,
}
