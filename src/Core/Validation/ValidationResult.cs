namespace Chainspace.Core.Validation;

/// <summary>Which clause of Fig. 2 a transaction failed.</summary>
public enum ValidationError : byte
{
    None = 0,
    /// <summary>Side condition 1: an input is not in the active set α'.</summary>
    InputNotActive,
    /// <summary>Side condition 1: a reference is not in the active set α'.</summary>
    ReferenceNotActive,
    /// <summary>Side condition 1: the same object appears twice among a trace's inputs.</summary>
    DuplicateInput,
    /// <summary>Side condition 2: a trace with outputs has no inputs.</summary>
    OutputsWithoutInputs,
    /// <summary>Side condition 3: an object passed to the checker is not of a type of the trace's contract.</summary>
    ObjectTypeMismatch,
    /// <summary>The checker c.v returned false.</summary>
    CheckerRejected,
    /// <summary>The trace's contract must be checked here but is not registered.</summary>
    UnknownContract,
    /// <summary>The checker threw: treated as a rejection, never as a crash.</summary>
    CheckerFailed,
}

/// <summary>The outcome of validating a transaction: valid, or the first failed clause and where.</summary>
public readonly record struct ValidationResult(ValidationError Error, int TraceIndex, int ObjectIndex)
{
    public static readonly ValidationResult Valid = new(ValidationError.None, -1, -1);
    public bool IsValid => Error == ValidationError.None;

    public override string ToString() => IsValid
        ? "valid"
        : ObjectIndex >= 0
            ? $"{Error} (trace {TraceIndex}, object {ObjectIndex})"
            : $"{Error} (trace {TraceIndex})";
}
