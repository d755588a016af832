namespace Chainspace.Sbac;

/// <summary>A shard's vote on a transaction (LOCALPREPARED) or the final decision (ACCEPT). Wire values.</summary>
public enum Decision : byte
{
    Commit = 1,
    Abort = 2,
}

public static class DecisionExtensions
{
    public static bool IsDefined(byte value) => value is (byte)Decision.Commit or (byte)Decision.Abort;
}
