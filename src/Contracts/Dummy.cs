using Chainspace.Core;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts;

/// <summary>
/// The paper's benchmark contract: <c>spend</c> consumes N tokens and creates N new ones; the
/// checker accepts every well-formed trace. N is what Fig. 7 sweeps (inputs per transaction).
/// Well-formed: procedure <c>spend</c>, N ≥ 1 inputs, exactly N outputs, no references, no
/// dependencies, empty returns, every payload at most <see cref="PayloadBytesMax"/> bytes.
/// </summary>
public sealed class Dummy : Contract
{
    public const string ContractName = "dummy";
    public const string TokenType = "token";
    public const string SpendProcedure = "spend";
    public const int PayloadBytesMax = 1024;

    public static readonly Dummy Instance = new();

    private Dummy() : base(ContractName, TokenType) { }

    public override bool Check(in TraceView trace, in TraceList dependencies)
    {
        if (!trace.ProcedureIs("spend"u8)) return false;
        var inputs = trace.Inputs;
        var outputs = trace.Outputs;
        if (inputs.Count == 0 || outputs.Count != inputs.Count) return false;
        if (trace.References.Count != 0 || dependencies.Count != 0 || !trace.Returns.IsEmpty) return false;
        for (int i = 0; i < outputs.Count; i++)
        {
            if (outputs[i].Payload.Length > PayloadBytesMax) return false;
        }
        return true;
    }

    // ------------------------------------------------------------ client side

    public static ObjectBody Token(ReadOnlyMemory<byte> payload = default) => new(ContractName, TokenType, payload);

    /// <summary>Initial tokens for a cluster: <paramref name="count"/> objects named under <paramref name="label"/>.</summary>
    public static IEnumerable<ChainObject> GenesisTokens(string label, int count, int payloadBytes = 8)
    {
        for (int i = 0; i < count; i++)
        {
            // The index in the payload keeps bodies distinct, which helps when reading logs and dumps.
            var payload = new byte[Math.Max(payloadBytes, 8)];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(payload, i);
            yield return Genesis.Object(label, (ulong)i, Token(payload));
        }
    }

    /// <summary>A transaction that spends <paramref name="inputs"/> into as many fresh tokens.</summary>
    public static Transaction Spend(IReadOnlyList<ChainObject> inputs, ReadOnlyMemory<byte> outputPayload = default)
    {
        var outputs = new ObjectBody[inputs.Count];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = Token(outputPayload);
        return new Transaction(new Trace(ContractName, SpendProcedure, inputs: inputs, outputs: outputs));
    }
}
