using Chainspace.Core.Codec;

namespace Chainspace.Core.Model;

/// <summary>
/// One procedure execution (paper §III): contract c, procedure p, inputs w, references r, outputs x,
/// local parameters and returns, and the traces of the procedures it called (dependencies).
/// Inputs and references carry the full objects so that every concerned shard can run the checker;
/// outputs carry bodies only, since their ids derive from this trace's id.
///
/// Wire form: name contract ‖ name procedure ‖ list inputs ‖ list references ‖ list outputs ‖
/// blob parameters ‖ blob returns ‖ list dependencies, each list a varint count then its items.
/// </summary>
public sealed class Trace : IEquatable<Trace>
{
    public Trace(
        string contract,
        string procedure,
        IReadOnlyList<ChainObject>? inputs = null,
        IReadOnlyList<ChainObject>? references = null,
        IReadOnlyList<ObjectBody>? outputs = null,
        ReadOnlyMemory<byte> parameters = default,
        ReadOnlyMemory<byte> returns = default,
        IReadOnlyList<Trace>? dependencies = null)
    {
        if (!Names.IsValid(contract)) throw new ArgumentException($"invalid contract name '{contract}'", nameof(contract));
        if (!Names.IsValid(procedure)) throw new ArgumentException($"invalid procedure name '{procedure}'", nameof(procedure));
        Contract = contract;
        Procedure = procedure;
        Inputs = inputs ?? [];
        References = references ?? [];
        Outputs = outputs ?? [];
        Parameters = parameters;
        Returns = returns;
        Dependencies = dependencies ?? [];
    }

    public string Contract { get; }
    public string Procedure { get; }
    public IReadOnlyList<ChainObject> Inputs { get; }
    public IReadOnlyList<ChainObject> References { get; }
    public IReadOnlyList<ObjectBody> Outputs { get; }
    public ReadOnlyMemory<byte> Parameters { get; }
    public ReadOnlyMemory<byte> Returns { get; }
    public IReadOnlyList<Trace> Dependencies { get; }

    public int GetEncodedLength()
    {
        int n = SpanWriter.NameLength(Contract) + SpanWriter.NameLength(Procedure);
        n += SpanWriter.VarintLength((ulong)Inputs.Count);
        for (int i = 0; i < Inputs.Count; i++) n += Inputs[i].GetEncodedLength();
        n += SpanWriter.VarintLength((ulong)References.Count);
        for (int i = 0; i < References.Count; i++) n += References[i].GetEncodedLength();
        n += SpanWriter.VarintLength((ulong)Outputs.Count);
        for (int i = 0; i < Outputs.Count; i++) n += Outputs[i].GetEncodedLength();
        n += SpanWriter.BlobLength(Parameters.Length) + SpanWriter.BlobLength(Returns.Length);
        n += SpanWriter.VarintLength((ulong)Dependencies.Count);
        for (int i = 0; i < Dependencies.Count; i++) n += Dependencies[i].GetEncodedLength();
        return n;
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteName(Contract);
        writer.WriteName(Procedure);
        writer.WriteVarUInt64((ulong)Inputs.Count);
        for (int i = 0; i < Inputs.Count; i++) Inputs[i].Encode(ref writer);
        writer.WriteVarUInt64((ulong)References.Count);
        for (int i = 0; i < References.Count; i++) References[i].Encode(ref writer);
        writer.WriteVarUInt64((ulong)Outputs.Count);
        for (int i = 0; i < Outputs.Count; i++) Outputs[i].Encode(ref writer);
        writer.WriteBlob(Parameters.Span);
        writer.WriteBlob(Returns.Span);
        writer.WriteVarUInt64((ulong)Dependencies.Count);
        for (int i = 0; i < Dependencies.Count; i++) Dependencies[i].Encode(ref writer);
    }

    public bool Equals(Trace? other) =>
        other is not null
        && Contract == other.Contract
        && Procedure == other.Procedure
        && Inputs.SequenceEqual(other.Inputs)
        && References.SequenceEqual(other.References)
        && Outputs.SequenceEqual(other.Outputs)
        && Parameters.Span.SequenceEqual(other.Parameters.Span)
        && Returns.Span.SequenceEqual(other.Returns.Span)
        && Dependencies.SequenceEqual(other.Dependencies);

    public override bool Equals(object? obj) => Equals(obj as Trace);
    public override int GetHashCode() => HashCode.Combine(Contract, Procedure, Inputs.Count, Outputs.Count);
    public override string ToString() => $"{Contract}.{Procedure}(in {Inputs.Count}, ref {References.Count}, out {Outputs.Count}, dep {Dependencies.Count})";
}
