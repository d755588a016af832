using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Storage.Objects;

/// <summary>
/// The replayable record of one store command, as the S-BAC layer logs it:
/// <code>u8 version (1) ‖ u8 hash algorithm (1) ‖ u8 kind ‖ Hash256 txId ‖ varint n ‖ Hash256 × n</code>
/// Create carries the created ids (txId: the creating transaction, or zero for genesis), Lock and Consume
/// the objects, Unlock none. Decoding is zero-copy: the ids stay in the record until copied out.
/// </summary>
public readonly ref struct StoreCommand
{
    /// <summary>More ids than any one transaction can carry; a count above it is malformed.</summary>
    public const int MaxIds = 1 << 16;

    private readonly ReadOnlySpan<byte> _ids;

    private StoreCommand(StoreCommandKind kind, Hash256 txId, int count, ReadOnlySpan<byte> ids)
    {
        Kind = kind;
        TxId = txId;
        Count = count;
        _ids = ids;
    }

    public StoreCommandKind Kind { get; }
    public Hash256 TxId { get; }
    public int Count { get; }

    public Hash256 GetId(int index) => Hash256.Read(_ids.Slice(index * Hash256.Size, Hash256.Size));

    public void CopyIdsTo(Span<Hash256> destination)
    {
        for (int i = 0; i < Count; i++) destination[i] = GetId(i);
    }

    public static int GetEncodedLength(int count) => 3 + Hash256.Size + SpanWriter.VarintLength((ulong)count) + count * Hash256.Size;

    /// <summary>Encodes into <paramref name="destination"/> (sized with <see cref="GetEncodedLength"/>); returns the bytes written.</summary>
    public static int Encode(StoreCommandKind kind, in Hash256 txId, ReadOnlySpan<Hash256> ids, Span<byte> destination)
    {
        if (kind is < StoreCommandKind.Create or > StoreCommandKind.Consume) throw new ArgumentOutOfRangeException(nameof(kind));
        if (kind == StoreCommandKind.Unlock && !ids.IsEmpty) throw new ArgumentException("an unlock carries no ids", nameof(ids));
        if (ids.Length > MaxIds) throw new ArgumentOutOfRangeException(nameof(ids), ids.Length, $"at most {MaxIds} ids");
        var writer = new SpanWriter(destination);
        writer.WriteFormatHeader();
        writer.WriteByte((byte)kind);
        writer.WriteHash(txId);
        writer.WriteVarUInt64((ulong)ids.Length);
        foreach (ref readonly var id in ids) writer.WriteHash(id);
        return writer.Written;
    }

    public static bool TryDecode(ReadOnlySpan<byte> input, out StoreCommand command, out CodecFailure failure)
    {
        command = default;
        var reader = new SpanReader(input);
        if (!reader.TryReadFormatHeader() || !reader.TryReadByte(out byte kind))
        {
            failure = reader.Failure;
            return false;
        }
        if (kind is < (byte)StoreCommandKind.Create or > (byte)StoreCommandKind.Consume)
        {
            failure = new CodecFailure(CodecError.InvalidValue, 2);
            return false;
        }
        if (!reader.TryReadHash(out var txId) || !reader.TryReadCount(MaxIds, Hash256.Size, out int count))
        {
            failure = reader.Failure;
            return false;
        }
        if (kind == (byte)StoreCommandKind.Unlock && count != 0)
        {
            failure = new CodecFailure(CodecError.InvalidValue, reader.Consumed - 1);
            return false;
        }
        if (!reader.TryReadBytes(count * Hash256.Size, out var ids) || !reader.TryExpectEnd())
        {
            failure = reader.Failure;
            return false;
        }
        command = new StoreCommand((StoreCommandKind)kind, txId, count, ids);
        failure = default;
        return true;
    }

    public static StoreCommand Decode(ReadOnlySpan<byte> input) =>
        TryDecode(input, out var command, out var failure) ? command : throw new CodecException(failure);
}
