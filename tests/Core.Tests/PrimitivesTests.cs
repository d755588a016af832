using System.Numerics;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using CsCheck;

namespace Chainspace.Core.Tests;

public class PrimitivesTests
{
    [Fact]
    public void ShardMap_IsTheBigEndianIntegerModK()
    {
        Gen.Select(Generators.Hash, Gen.UInt[1, 1000]).Sample((h, k) =>
        {
            var big = new BigInteger(h.ToArray(), isUnsigned: true, isBigEndian: true);
            Assert.Equal((uint)(big % k), new ShardMap(k).ShardOf(h));
        }, iter: 2000);
    }

    [Fact]
    public void Mod_MatchesBigIntegerForModuliUpToUInt32Max()
    {
        Gen.Select(Generators.Hash, Gen.UInt[1, uint.MaxValue]).Sample((h, k) =>
        {
            var big = new BigInteger(h.ToArray(), isUnsigned: true, isBigEndian: true);
            Assert.Equal((uint)(big % k), h.Mod(k));
        }, iter: 2000);
        var all = new Hash256(Enumerable.Repeat((byte)0xFF, Hash256.Size).ToArray());
        var max = new BigInteger(all.ToArray(), isUnsigned: true, isBigEndian: true);
        Assert.Equal((uint)(max % uint.MaxValue), all.Mod(uint.MaxValue));
        Assert.Equal(0u, all.Mod(1));
    }

    [Fact]
    public void ShardMap_ConcernedShards_AreTheFreeObjectsShards()
    {
        var map = new ShardMap(4);
        var body = new ObjectBody("c", "t", new byte[] { 1 });
        var inputs = Enumerable.Range(0, 6).Select(i => Genesis.Object("g", (ulong)i, body)).ToArray();
        var first = new Trace("c", "p", inputs, outputs: [body]);
        var created = new Transaction(first).Ids.OutputsByTrace[0][0];
        // The second trace spends what the first created: that object is not free, adds no shard.
        var tx = new Transaction(first, new Trace("c", "p", [created], outputs: [body]));
        byte[] bytes = tx.Encode();
        var parsed = new ParsedTransaction(CodecLimits.Default);
        Assert.True(parsed.TryParse(bytes, out _));
        parsed.ComputeIds(bytes);
        Span<uint> shards = stackalloc uint[4];
        int n = parsed.ConcernedShards(map, shards);
        var expected = inputs.Select(o => map.ShardOf(o.Id)).Distinct().Order().ToArray();
        Assert.Equal(expected, shards[..n].ToArray());
        n = parsed.OutputShards(map, shards);
        var expectedOut = tx.Ids.AllOutputs.Select(o => map.ShardOf(o.Id)).Distinct().Order().ToArray();
        Assert.Equal(expectedOut, shards[..n].ToArray());
    }

    [Fact]
    public void Hash256_RoundTripsAndOrdersLikeBytes()
    {
        Gen.Select(Generators.Hash, Generators.Hash).Sample((a, b) =>
        {
            Assert.Equal(a, Hash256.Parse(a.ToString()));
            Assert.Equal(a, new Hash256(a.ToArray()));
            Assert.Equal(Math.Sign(a.ToArray().AsSpan().SequenceCompareTo(b.ToArray())), Math.Sign(a.CompareTo(b)));
        }, iter: 1000);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x00 }, CodecError.NonCanonicalVarint)]
    [InlineData(new byte[] { 0xFF, 0x80, 0x00 }, CodecError.NonCanonicalVarint)]
    [InlineData(new byte[] { 0x80 }, CodecError.Truncated)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, CodecError.VarintOverflow)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, CodecError.VarintOverflow)]
    public void SpanReader_RejectsBadVarintsAndConsumesNothing(byte[] bytes, CodecError expected)
    {
        var reader = new SpanReader(bytes);
        Assert.False(reader.TryReadVarUInt64(out _));
        Assert.Equal(expected, reader.Failure.Error);
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void SpanReaderWriter_VarintsRoundTripCanonically()
    {
        Gen.ULong.Sample(v =>
        {
            Span<byte> buffer = stackalloc byte[10];
            var w = new SpanWriter(buffer);
            w.WriteVarUInt64(v);
            Assert.Equal(SpanWriter.VarintLength(v), w.Written);
            var r = new SpanReader(buffer[..w.Written]);
            Assert.True(r.TryReadVarUInt64(out ulong back));
            Assert.Equal(v, back);
            Assert.True(r.End);
        }, iter: 5000);
    }

    [Fact]
    public void CodecLimits_InvalidConfigurationNamesTheField()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => (CodecLimits.Default with { NameBytesMax = 0 }).Validate());
        Assert.Equal(nameof(CodecLimits.NameBytesMax), ex.ParamName);
    }
}

public class HashingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1021)]
    [InlineData(1022)]
    [InlineData(5000)]
    public void Hashing_Domain_IsSha256OfPrefixAndData_AtEverySize(int length)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        byte[] preimage = [(byte)HashDomain.Object, FormatVersion.V1, (byte)HashAlgorithmId.Sha256, .. data];
        Assert.Equal(Hashing.Sha256(preimage), Hashing.Domain(HashDomain.Object, data));
    }

    [Fact]
    public void Hashing_Domain_AllocatesNothing()
    {
        var small = new byte[100];
        var large = new byte[4096];
        Hashing.Domain(HashDomain.Trace, small);
        Hashing.Domain(HashDomain.Trace, large);
        Assert.Equal(0, Allocations.Fewest(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                Hashing.Domain(HashDomain.Trace, small);
                Hashing.Domain(HashDomain.Trace, large);
            }
        }));
    }
}
