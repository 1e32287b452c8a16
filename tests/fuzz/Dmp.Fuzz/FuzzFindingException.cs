namespace Dmp.Fuzz;

/// <summary>A target saw the code under test misbehave without throwing (a logged failure, a broken round trip).</summary>
internal sealed class FuzzFindingException(string message) : Exception(message);
