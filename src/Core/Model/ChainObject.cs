using Chainspace.Core.Codec;

namespace Chainspace.Core.Model;

/// <summary>
/// An object as it is named in the hash-DAG: the id of the trace that created it, its local index
/// among that trace's outputs, and its body.
///
/// id(o) = SHA-256('O' ‖ version ‖ algorithm ‖ creatorTraceId ‖ varint localIndex ‖ body).
///
/// The paper's id(o) hashes the creating trace's id with the output's local name; we also hash the
/// body, so a shard that does not manage an input object can still verify that the content carried
/// in a transaction is the content that was created (the checker of a multi-shard CSCoin transfer
/// reads balances held by other shards). Genesis objects use a genesis trace id (see <see cref="Genesis"/>).
/// The bytes hashed after the prefix are exactly the object's reference encoding on the wire.
/// </summary>
public sealed class ChainObject : IEquatable<ChainObject>
{
    private Hash256? _id;

    public ChainObject(Hash256 creatorTraceId, ulong localIndex, ObjectBody body)
    {
        CreatorTraceId = creatorTraceId;
        LocalIndex = localIndex;
        Body = body ?? throw new ArgumentNullException(nameof(body));
    }

    public Hash256 CreatorTraceId { get; }
    public ulong LocalIndex { get; }
    public ObjectBody Body { get; }
    public string Contract => Body.Contract;
    public string Type => Body.Type;
    public ReadOnlyMemory<byte> Payload => Body.Payload;

    public Hash256 Id => _id ??= ComputeId();

    /// <summary>Bytes of the reference encoding: creatorTraceId ‖ varint localIndex ‖ body.</summary>
    public int GetEncodedLength() => Hash256.Size + SpanWriter.VarintLength(LocalIndex) + Body.GetEncodedLength();

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteHash(CreatorTraceId);
        writer.WriteVarUInt64(LocalIndex);
        Body.Encode(ref writer);
    }

    public byte[] EncodeReference()
    {
        var bytes = new byte[GetEncodedLength()];
        var writer = new SpanWriter(bytes);
        Encode(ref writer);
        return bytes;
    }

    private Hash256 ComputeId() => ObjectIds.Compute(EncodeReference());

    public bool Equals(ChainObject? other) =>
        other is not null && CreatorTraceId == other.CreatorTraceId && LocalIndex == other.LocalIndex && Body.Equals(other.Body);

    public override bool Equals(object? obj) => Equals(obj as ChainObject);
    public override int GetHashCode() => HashCode.Combine(CreatorTraceId, LocalIndex);
    public override string ToString() => $"{Id.ToShortString()} {Body}";
}

/// <summary>The object-id function, shared by the model and the zero-copy parser.</summary>
public static class ObjectIds
{
    /// <summary>id(o) from the object's reference encoding (creatorTraceId ‖ varint index ‖ body).</summary>
    public static Hash256 Compute(ReadOnlySpan<byte> referenceEncoding) =>
        Hashing.Domain(HashDomain.Object, referenceEncoding);
}
