using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using CsCheck;

namespace Chainspace.Core.Tests;

public class TransactionCodecTests
{
    [Fact]
    public void Codec_EncodeThenDecode_IsIdentity()
    {
        Generators.Transaction.Sample(tx =>
        {
            byte[] bytes = tx.Encode();
            var decoded = Transaction.Decode(bytes);
            Assert.Equal(tx, decoded);
            Assert.Equal(bytes, decoded.Encode());
        }, iter: 500);
    }

    [Fact]
    public void Codec_EqualValues_EncodeToEqualBytes()
    {
        // Two independently built but equal values (deep copies) must encode identically.
        Generators.Transaction.Sample(tx =>
        {
            var copy = DeepCopy(tx);
            Assert.NotSame(tx, copy);
            Assert.Equal(tx.Encode(), copy.Encode());
            Assert.Equal(tx.Id, copy.Id);
        }, iter: 300);
    }

    [Fact]
    public void Codec_RandomBytes_OnlyCodecException()
    {
        Gen.Byte.Array[0, 200].Sample(bytes => DecodeMustNotCrash(bytes), iter: 5000);
    }

    [Fact]
    public void Codec_RandomBytesWithValidHeader_OnlyCodecException()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var framed = new byte[bytes.Length + 2];
            framed[0] = FormatVersion.V1;
            framed[1] = (byte)HashAlgorithmId.Sha256;
            bytes.CopyTo(framed, 2);
            DecodeMustNotCrash(framed);
        }, iter: 5000);
    }

    [Fact]
    public void Codec_MutatedTransactions_OnlyCodecException()
    {
        var gen = Gen.Select(Generators.Transaction, Gen.Int[0, 1000], Gen.Byte, Gen.Int[0, 3]);
        gen.Sample((tx, position, value, kind) =>
        {
            byte[] bytes = tx.Encode();
            int at = position % bytes.Length;
            byte[] mutated = kind switch
            {
                0 => Flip(bytes, at, value),
                1 => bytes[..at],                                   // truncated
                2 => [.. bytes, value],                             // trailing byte
                _ => [.. bytes[..at], value, .. bytes[at..]],      // inserted byte
            };
            DecodeMustNotCrash(mutated);
        }, iter: 3000);
    }

    [Fact]
    public void Codec_TrailingByte_IsRejectedWithOffset()
    {
        var tx = Generators.Transaction.Single();
        byte[] bytes = [.. tx.Encode(), 0];
        var ex = Assert.Throws<CodecException>(() => Transaction.Decode(bytes));
        Assert.Equal(CodecError.TrailingBytes, ex.Error);
        Assert.Equal(bytes.Length - 1, ex.Offset);
    }

    [Fact]
    public void Codec_UnknownVersionOrAlgorithm_IsRejected()
    {
        byte[] bytes = Generators.Transaction.Single().Encode();
        bytes[0] = 2;
        Assert.Equal(CodecError.UnknownVersion, Assert.Throws<CodecException>(() => Transaction.Decode(bytes)).Error);
        bytes[0] = FormatVersion.V1;
        bytes[1] = (byte)HashAlgorithmId.Blake3;   // reserved, not implemented
        var ex = Assert.Throws<CodecException>(() => Transaction.Decode(bytes));
        Assert.Equal(CodecError.UnknownHashAlgorithm, ex.Error);
        Assert.Equal(1, ex.Offset);
    }

    [Fact]
    public void Codec_TraceCountOverLimit_IsRejectedBeforeReadingTraces()
    {
        // Header, then a trace count of 1,000,000 with nothing behind it.
        byte[] bytes = [FormatVersion.V1, (byte)HashAlgorithmId.Sha256, 0xC0, 0x84, 0x3D];
        var ex = Assert.Throws<CodecException>(() => Transaction.Decode(bytes));
        Assert.Equal(CodecError.CountOverLimit, ex.Error);
        Assert.Equal(2, ex.Offset);
    }

    [Fact]
    public void Codec_CountLargerThanRemainingInput_IsTruncated()
    {
        byte[] bytes = [FormatVersion.V1, (byte)HashAlgorithmId.Sha256, 5, 1, (byte)'a'];
        Assert.Equal(CodecError.Truncated, Assert.Throws<CodecException>(() => Transaction.Decode(bytes)).Error);
    }

    [Fact]
    public void Codec_EmptyTransaction_IsRejected()
    {
        byte[] bytes = [FormatVersion.V1, (byte)HashAlgorithmId.Sha256, 0];
        Assert.Equal(CodecError.InvalidValue, Assert.Throws<CodecException>(() => Transaction.Decode(bytes)).Error);
    }

    [Fact]
    public void Codec_DependenciesDeeperThanLimit_AreRejected()
    {
        var limits = CodecLimits.Default with { DependencyDepthMax = 2 };
        Trace Nest(int depth) => depth == 0
            ? new Trace("c", "p")
            : new Trace("c", "p", dependencies: [Nest(depth - 1)]);
        Assert.NotNull(Transaction.Decode(new Transaction(Nest(2)).Encode(), limits));
        var ex = Assert.Throws<CodecException>(() => Transaction.Decode(new Transaction(Nest(3)).Encode(), limits));
        Assert.Equal(CodecError.DepthOverLimit, ex.Error);
    }

    [Fact]
    public void Codec_PayloadOverLimit_IsRejected()
    {
        var limits = CodecLimits.Default with { BlobBytesMax = 16 };
        var tx = new Transaction(new Trace("c", "p", parameters: new byte[17]));
        Assert.Equal(CodecError.LengthOverLimit, Assert.Throws<CodecException>(() => Transaction.Decode(tx.Encode(), limits)).Error);
    }

    [Fact]
    public void Codec_NonPrintableName_IsRejected()
    {
        byte[] bytes = new Transaction(new Trace("ab", "p")).Encode();
        int at = Array.IndexOf(bytes, (byte)'a');
        bytes[at] = 0x07;
        var ex = Assert.Throws<CodecException>(() => Transaction.Decode(bytes));
        Assert.Equal(CodecError.InvalidName, ex.Error);
        Assert.Equal(at - 1, ex.Offset);
    }

    [Fact]
    public void Codec_TransactionOverByteLimit_IsRejected()
    {
        var limits = CodecLimits.Default with { TransactionBytesMax = 64 };
        var tx = new Transaction(new Trace("c", "p", parameters: new byte[100]));
        Assert.Equal(CodecError.LengthOverLimit, Assert.Throws<CodecException>(() => Transaction.Decode(tx.Encode(), limits)).Error);
    }

    [Fact]
    public void Parser_IsReusable_AcrossGoodAndBadInputs()
    {
        var parsed = new ParsedTransaction(CodecLimits.Default);
        var a = Generators.Transaction.Single();
        var b = Generators.Transaction.Single();
        byte[] aBytes = a.Encode(), bBytes = b.Encode();
        Assert.True(parsed.TryParse(aBytes, out _));
        Assert.Equal(a.Id, parsed.ComputeIds(aBytes));
        Assert.False(parsed.TryParse(aBytes[..^1], out var failure));
        Assert.True(failure.IsError);
        Assert.True(parsed.TryParse(bBytes, out _));
        Assert.Equal(b.Id, parsed.ComputeIds(bBytes));
        Assert.Equal(b, parsed.View(bBytes).ToModel());
    }

    private static void DecodeMustNotCrash(byte[] bytes)
    {
        try
        {
            var tx = Transaction.Decode(bytes);
            // Whatever decodes must be canonical: it re-encodes to the very same bytes.
            Assert.Equal(bytes, tx.Encode());
        }
        catch (CodecException ex)
        {
            Assert.NotEqual(CodecError.None, ex.Error);
            Assert.InRange(ex.Offset, 0, bytes.Length);
        }
    }

    private static byte[] Flip(byte[] bytes, int at, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= value == 0 ? (byte)1 : value;
        return copy;
    }

    internal static Transaction DeepCopy(Transaction tx) => new(tx.Traces.Select(DeepCopy).ToArray());

    private static Trace DeepCopy(Trace t) => new(
        new string(t.Contract.AsSpan()), new string(t.Procedure.AsSpan()),
        t.Inputs.Select(Copy).ToArray(), t.References.Select(Copy).ToArray(), t.Outputs.Select(Copy).ToArray(),
        t.Parameters.ToArray(), t.Returns.ToArray(), t.Dependencies.Select(DeepCopy).ToArray());

    private static ObjectBody Copy(ObjectBody b) => new(new string(b.Contract.AsSpan()), new string(b.Type.AsSpan()), b.Payload.ToArray());
    private static ChainObject Copy(ChainObject o) => new(new Hash256(o.CreatorTraceId.ToArray()), o.LocalIndex, Copy(o.Body));
}
