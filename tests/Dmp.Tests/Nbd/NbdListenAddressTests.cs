using Dmp.Nbd;

namespace Dmp.Tests.Nbd;

public class NbdListenAddressTests
{
    [Theory]
    [InlineData("tcp:", "tcp:127.0.0.1:10809")]
    [InlineData("tcp:localhost", "tcp:127.0.0.1:10809")]
    [InlineData("tcp::2000", "tcp:127.0.0.1:2000")]
    [InlineData("tcp:0.0.0.0:10809", "tcp:0.0.0.0:10809")]
    [InlineData("tcp:10.1.2.3", "tcp:10.1.2.3:10809")]
    [InlineData("tcp:[::1]:4000", "tcp:[::1]:4000")]
    [InlineData("tcp:[::]", "tcp:[::]:10809")]
    [InlineData("unix:/run/dmp.sock", "unix:/run/dmp.sock")]
    public void Addresses_parse_to_their_canonical_form(string text, string canonical)
    {
        Assert.Equal(canonical, NbdListenAddress.Parse(text).ToString());
    }

    [Fact]
    public void A_relative_unix_path_is_made_absolute()
    {
        Assert.Equal($"unix:{Path.Combine(Environment.CurrentDirectory, "dmp.sock")}", NbdListenAddress.Parse("unix:dmp.sock").ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("unix:")]
    [InlineData("udp:1.2.3.4:5")]
    [InlineData("tcp:host.example:10809")]
    [InlineData("tcp:1.2.3.4:")]
    [InlineData("tcp:1.2.3.4:0")]
    [InlineData("tcp:1.2.3.4:65536")]
    [InlineData("tcp:1.2.3.4:port")]
    [InlineData("tcp:[::1")]
    [InlineData("tcp:[::1]x")]
    [InlineData("/run/dmp.sock")]
    public void Anything_else_is_refused_with_the_forms_that_work(string text)
    {
        var error = Assert.Throws<FormatException>(() => NbdListenAddress.Parse(text));
        Assert.Equal($"invalid listen address '{text}': use unix:PATH or tcp:HOST:PORT", error.Message);
    }
}
