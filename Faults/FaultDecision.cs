namespace Dmp.Faults;

/// <summary>What the fault link makes of one request: nothing (the default), or the action of the rule that fired.</summary>
/// <param name="Rule">The id of the rule that fired (0 for none), which the trace shows.</param>
/// <param name="Error">The errno a <see cref="FaultAction.Fail"/> answers with.</param>
/// <param name="Delay">How long a <see cref="FaultAction.Delay"/> holds the request.</param>
internal readonly record struct FaultDecision(FaultAction Action, int Rule = 0, int Error = 0, TimeSpan Delay = default)
{
    /// <summary>True when the rule answers in the store's place: an error, or a dropped write's success.</summary>
    public bool Answers => Action is FaultAction.Fail or FaultAction.Drop;

    /// <summary>Inverts the first byte of a read's data, so that it always differs from what the store holds.</summary>
    public void CorruptIfAsked(Span<byte> readData)
    {
        if (Action == FaultAction.Corrupt && !readData.IsEmpty)
        {
            readData[0] ^= 0xFF;
        }
    }
}
