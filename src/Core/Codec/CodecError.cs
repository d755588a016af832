namespace Chainspace.Core.Codec;

/// <summary>Why a decoder refused its input. <see cref="None"/> means success.</summary>
public enum CodecError : byte
{
    None = 0,
    Truncated,
    TrailingBytes,
    NonCanonicalVarint,
    VarintOverflow,
    CountOverLimit,
    LengthOverLimit,
    UnknownVersion,
    UnknownHashAlgorithm,
    InvalidName,
    DepthOverLimit,
    InvalidValue,
}

/// <summary>A decode failure: the reason and the byte offset in the input where it was found.</summary>
public readonly record struct CodecFailure(CodecError Error, int Offset)
{
    public bool IsError => Error != CodecError.None;

    public string Describe() => Error switch
    {
        CodecError.None => "ok",
        CodecError.Truncated => $"input ends early at offset {Offset}",
        CodecError.TrailingBytes => $"unexpected bytes after the end of the value at offset {Offset}",
        CodecError.NonCanonicalVarint => $"non-canonical varint at offset {Offset}",
        CodecError.VarintOverflow => $"varint longer than 64 bits at offset {Offset}",
        CodecError.CountOverLimit => $"count over the configured limit at offset {Offset}",
        CodecError.LengthOverLimit => $"length over the configured limit or the remaining input at offset {Offset}",
        CodecError.UnknownVersion => $"unknown format version at offset {Offset}",
        CodecError.UnknownHashAlgorithm => $"unknown hash algorithm at offset {Offset}",
        CodecError.InvalidName => $"name is empty or not printable ASCII at offset {Offset}",
        CodecError.DepthOverLimit => $"dependencies nested deeper than the limit at offset {Offset}",
        CodecError.InvalidValue => $"invalid value at offset {Offset}",
        _ => $"{Error} at offset {Offset}",
    };
}

/// <summary>The one exception type the codec throws for malformed input.</summary>
public sealed class CodecException : Exception
{
    public CodecException(CodecFailure failure)
        : base("malformed input: " + failure.Describe())
    {
        Failure = failure;
    }

    public CodecFailure Failure { get; }
    public CodecError Error => Failure.Error;
    public int Offset => Failure.Offset;
}
