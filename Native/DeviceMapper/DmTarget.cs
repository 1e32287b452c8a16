namespace Dmp.Native.DeviceMapper;

/// <summary>One line of a device-mapper table: <c>START LENGTH TYPE PARAMETERS</c>, in 512-byte sectors.</summary>
internal sealed record DmTarget(ulong Start, ulong Length, string Type, string Parameters)
{
    public override string ToString() => $"{Start} {Length} {Type} {Parameters}";
}
