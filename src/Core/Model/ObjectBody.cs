using Chainspace.Core.Codec;

namespace Chainspace.Core.Model;

/// <summary>
/// What an object is, without where it came from: its type (contract name + type name) and payload.
/// Wire form: name contract ‖ name type ‖ blob payload.
/// </summary>
public sealed class ObjectBody : IEquatable<ObjectBody>
{
    public ObjectBody(string contract, string type, ReadOnlyMemory<byte> payload)
    {
        if (!Names.IsValid(contract)) throw new ArgumentException($"invalid contract name '{contract}'", nameof(contract));
        if (!Names.IsValid(type)) throw new ArgumentException($"invalid type name '{type}'", nameof(type));
        Contract = contract;
        Type = type;
        Payload = payload;
    }

    public string Contract { get; }
    public string Type { get; }
    public ReadOnlyMemory<byte> Payload { get; }

    public int GetEncodedLength() =>
        SpanWriter.NameLength(Contract) + SpanWriter.NameLength(Type) + SpanWriter.BlobLength(Payload.Length);

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteName(Contract);
        writer.WriteName(Type);
        writer.WriteBlob(Payload.Span);
    }

    public bool Equals(ObjectBody? other) =>
        other is not null && Contract == other.Contract && Type == other.Type && Payload.Span.SequenceEqual(other.Payload.Span);

    public override bool Equals(object? obj) => Equals(obj as ObjectBody);
    public override int GetHashCode() => HashCode.Combine(Contract, Type, Payload.Length);
    public override string ToString() => $"{Contract}/{Type}[{Payload.Length} B]";
}
