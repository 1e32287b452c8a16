using Dmp.Native.DeviceMapper;

namespace Dmp.Tests.Native;

public class DeviceMapperTests
{
    [Fact]
    public void A_table_load_payload_is_specs_with_parameters_padded_to_8()
    {
        byte[] payload = DeviceMapperControl.EncodeTable([new DmTarget(0, 1024, "linear", "43:0 0")]);

        // 40-byte spec + "43:0 0\0" (7 bytes) = 47, padded to 48; next is relative to this spec.
        byte[] expected = new byte[48];
        expected[8] = 0x00;
        expected[9] = 0x04; // length 1024
        expected[20] = 48;  // next
        "linear"u8.CopyTo(expected.AsSpan(24));
        "43:0 0"u8.CopyTo(expected.AsSpan(40));
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void Several_targets_follow_each_other()
    {
        byte[] payload = DeviceMapperControl.EncodeTable([new DmTarget(0, 8, "zero", ""), new DmTarget(8, 8, "error", "")]);

        Assert.Equal(96, payload.Length);
        Assert.Equal(48, payload[20]);
        Assert.Equal(8, payload[48]); // the second starts at sector 8
    }
}
