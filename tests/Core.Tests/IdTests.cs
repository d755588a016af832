using Chainspace.Core.Model;
using CsCheck;

namespace Chainspace.Core.Tests;

/// <summary>The hash-DAG: every hashed field moves the ids that depend on it.</summary>
public class IdTests
{
    private static readonly ObjectBody Body = new("c", "t", new byte[] { 1, 2, 3 });
    private static readonly ChainObject In = Genesis.Object("test", 0, Body);
    private static readonly ChainObject Ref = Genesis.Object("test", 1, Body);

    private static Trace Base(
        string contract = "c", string procedure = "p", ChainObject? input = null, ChainObject? reference = null,
        ObjectBody? output = null, byte[]? parameters = null, byte[]? returns = null, Trace[]? deps = null) =>
        new(contract, procedure, [input ?? In], [reference ?? Ref], [output ?? Body],
            parameters ?? [7], returns ?? [8], deps ?? [new Trace("c", "dep", parameters: new byte[] { 9 })]);

    public static TheoryData<string, Trace> Mutations => new()
    {
        { "contract", Base(contract: "d") },
        { "procedure", Base(procedure: "q") },
        { "input payload", Base(input: Genesis.Object("test", 0, new ObjectBody("c", "t", new byte[] { 1, 2, 4 }))) },
        { "input type", Base(input: Genesis.Object("test", 0, new ObjectBody("c", "u", new byte[] { 1, 2, 3 }))) },
        { "input creator", Base(input: Genesis.Object("other", 0, Body)) },
        { "input index", Base(input: Genesis.Object("test", 5, Body)) },
        { "reference", Base(reference: Genesis.Object("test", 2, Body)) },
        { "output payload", Base(output: new ObjectBody("c", "t", new byte[] { 0 })) },
        { "parameters", Base(parameters: [6]) },
        { "returns", Base(returns: [6]) },
        { "dependency", Base(deps: [new Trace("c", "dep", parameters: new byte[] { 10 })]) },
        { "no dependency", Base(deps: []) },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void Ids_ChangeWhenAnyHashedFieldChanges(string field, Trace mutated)
    {
        var original = new Transaction(Base());
        var changed = new Transaction(mutated);
        Assert.True(original.Id != changed.Id, $"id(T) did not change with {field}");
        Assert.True(original.Ids.TraceIds[0] != changed.Ids.TraceIds[0], $"id(trace) did not change with {field}");
        Assert.True(original.Ids.OutputsByTrace[0][0].Id != changed.Ids.OutputsByTrace[0][0].Id, $"id(output) did not change with {field}");
    }

    [Fact]
    public void Ids_TraceOrderMatters()
    {
        var a = new Trace("c", "a");
        var b = new Trace("c", "b");
        Assert.NotEqual(new Transaction(a, b).Id, new Transaction(b, a).Id);
    }

    [Fact]
    public void Ids_RandomSingleByteChangeInPayload_ChangesTransactionId()
    {
        Gen.Select(Generators.Transaction, Gen.Int[0, 10_000]).Sample((tx, pick) =>
        {
            var first = tx.Traces[0];
            if (first.Parameters.Length == 0) return;
            var parameters = first.Parameters.ToArray();
            parameters[pick % parameters.Length] ^= 0x80;
            var changed = new Transaction([new Trace(first.Contract, first.Procedure, first.Inputs, first.References,
                first.Outputs, parameters, first.Returns, first.Dependencies), .. tx.Traces.Skip(1)]);
            Assert.NotEqual(tx.Id, changed.Id);
        }, iter: 300);
    }

    [Fact]
    public void Ids_ObjectIdFromModel_MatchesParserAndOutputsDeriveFromTrace()
    {
        var tx = new Transaction(Base());
        var outputs = tx.Ids.OutputsByTrace[0];
        // An output re-used as an input elsewhere is named by the same id.
        Assert.Equal(outputs[0].Id, new ChainObject(tx.Ids.TraceIds[0], 0, Body).Id);
        var next = new Transaction(new Trace("c", "p", [outputs[0]]));
        var parsed = new ParsedTransaction(Codec.CodecLimits.Default);
        var bytes = next.Encode();
        Assert.True(parsed.TryParse(bytes, out _));
        parsed.ComputeIds(bytes);
        Assert.Equal(outputs[0].Id, parsed.View(bytes).Traces[0].Inputs[0].Id);
    }

    [Fact]
    public void Ids_DomainsAreSeparated()
    {
        Span<byte> data = stackalloc byte[10];
        Assert.NotEqual(Hashing.Domain(HashDomain.Object, data), Hashing.Domain(HashDomain.Trace, data));
        Assert.NotEqual(Hashing.Domain(HashDomain.Object, data), Hashing.Sha256(data));
    }
}
