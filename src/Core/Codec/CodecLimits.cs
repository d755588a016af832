namespace Chainspace.Core.Codec;

/// <summary>
/// Hard limits a decoder enforces before it trusts a length or a count. They are configuration
/// (the cluster file carries them), validated once here.
/// </summary>
public sealed record CodecLimits
{
    public static readonly CodecLimits Default = new();

    /// <summary>Largest encoded transaction accepted.</summary>
    public int TransactionBytesMax { get; init; } = 256 * 1024;
    /// <summary>Traces in a transaction, dependencies included.</summary>
    public int TracesPerTransactionMax { get; init; } = 64;
    /// <summary>Inputs, references or outputs of one trace (each list separately).</summary>
    public int ObjectsPerTraceMax { get; init; } = 64;
    /// <summary>Objects (inputs, references and outputs) over the whole transaction.</summary>
    public int ObjectsPerTransactionMax { get; init; } = 512;
    /// <summary>Bytes of one object payload, parameter or return blob.</summary>
    public int BlobBytesMax { get; init; } = 64 * 1024;
    /// <summary>Bytes of a contract, procedure or type name.</summary>
    public int NameBytesMax { get; init; } = 64;
    /// <summary>How deep dependencies may nest (a top-level trace has depth 0).</summary>
    public int DependencyDepthMax { get; init; } = 8;

    public CodecLimits Validate()
    {
        Require(TransactionBytesMax is >= 64 and <= 64 * 1024 * 1024, nameof(TransactionBytesMax), "64 B .. 64 MiB");
        Require(TracesPerTransactionMax is >= 1 and <= 4096, nameof(TracesPerTransactionMax), "1 .. 4096");
        Require(ObjectsPerTraceMax is >= 1 and <= 4096, nameof(ObjectsPerTraceMax), "1 .. 4096");
        Require(ObjectsPerTransactionMax >= ObjectsPerTraceMax && ObjectsPerTransactionMax <= 65536,
            nameof(ObjectsPerTransactionMax), $"{ObjectsPerTraceMax} .. 65536");
        Require(BlobBytesMax is >= 0 and <= 16 * 1024 * 1024, nameof(BlobBytesMax), "0 .. 16 MiB");
        Require(NameBytesMax is >= 1 and <= 255, nameof(NameBytesMax), "1 .. 255");
        Require(DependencyDepthMax is >= 0 and <= 64, nameof(DependencyDepthMax), "0 .. 64");
        return this;
    }

    private static void Require(bool ok, string field, string range)
    {
        if (!ok) throw new ArgumentOutOfRangeException(field, $"codec limit {field} must be in {range}");
    }
}
