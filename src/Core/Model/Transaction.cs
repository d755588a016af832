using System.Buffers;
using Chainspace.Core.Codec;

namespace Chainspace.Core.Model;

/// <summary>
/// A transaction: a list of traces (paper §III). This is the allocating model used by clients, tests
/// and tools; replicas work on the encoded bytes through <see cref="ParsedTransaction"/> instead.
///
/// Wire form: u8 version ‖ u8 hash algorithm ‖ list traces.
/// </summary>
public sealed class Transaction : IEquatable<Transaction>
{
    private TransactionIds? _ids;

    public Transaction(IReadOnlyList<Trace> traces)
    {
        Traces = traces ?? throw new ArgumentNullException(nameof(traces));
    }

    public Transaction(params Trace[] traces) : this((IReadOnlyList<Trace>)traces) { }

    public IReadOnlyList<Trace> Traces { get; }

    /// <summary>id(T) and every id derived from it, computed once from the canonical encoding.</summary>
    public TransactionIds Ids => _ids ??= TransactionIds.Compute(this);
    public Hash256 Id => Ids.TransactionId;

    public int GetEncodedLength()
    {
        int n = 2 + SpanWriter.VarintLength((ulong)Traces.Count);
        for (int i = 0; i < Traces.Count; i++) n += Traces[i].GetEncodedLength();
        return n;
    }

    public int Encode(Span<byte> destination)
    {
        var writer = new SpanWriter(destination);
        writer.WriteFormatHeader();
        writer.WriteVarUInt64((ulong)Traces.Count);
        for (int i = 0; i < Traces.Count; i++) Traces[i].Encode(ref writer);
        return writer.Written;
    }

    public void Encode(IBufferWriter<byte> output)
    {
        int length = GetEncodedLength();
        var span = output.GetSpan(length);
        int written = Encode(span[..length]);
        output.Advance(written);
    }

    public byte[] Encode()
    {
        var bytes = new byte[GetEncodedLength()];
        int written = Encode(bytes);
        if (written != bytes.Length) throw new InvalidOperationException("encoded length disagrees with GetEncodedLength");
        return bytes;
    }

    /// <summary>Decodes and validates the structure; throws <see cref="CodecException"/> on malformed input.</summary>
    public static Transaction Decode(ReadOnlySpan<byte> bytes, CodecLimits? limits = null)
    {
        if (!TryDecode(bytes, limits, out var tx, out var failure)) throw new CodecException(failure);
        return tx!;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, CodecLimits? limits, out Transaction? transaction, out CodecFailure failure)
    {
        var parsed = new ParsedTransaction(limits ?? CodecLimits.Default);
        if (!parsed.TryParse(bytes, out failure))
        {
            transaction = null;
            return false;
        }
        transaction = parsed.View(bytes).ToModel();
        return true;
    }

    public bool Equals(Transaction? other) => other is not null && Traces.SequenceEqual(other.Traces);
    public override bool Equals(object? obj) => Equals(obj as Transaction);
    public override int GetHashCode() => Traces.Count;
    public override string ToString() => $"T[{Traces.Count} traces]";
}
