namespace Dmp.Nbd;

/// <summary><c>--tls</c>, as nbdkit names its modes.</summary>
internal enum NbdTlsMode
{
    /// <summary>NBD_OPT_STARTTLS is refused as unsupported.</summary>
    Off,

    /// <summary>Offered: a client may upgrade, or carry on in plain text.</summary>
    On,

    /// <summary>Every option but NBD_OPT_STARTTLS (and NBD_OPT_ABORT) is refused until the client upgrades.</summary>
    Require,
}
