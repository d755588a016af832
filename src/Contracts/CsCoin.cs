using System.Buffers;
using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Contracts;

/// <summary>
/// CSCoin (paper §VI-A): accounts owned by an Ed25519 public key.
///
/// Account payload: 32-byte public key ‖ i64 little-endian balance (exactly 40 bytes).
/// <c>transfer</c>: N ≥ 1 input accounts → N output accounts, output i keeps input i's key.
/// <c>createAccount</c>: one sponsor account → the sponsor and one new account, funded by the sponsor.
/// Parameters: varint N ‖ N × blob signature (empty, or 64 bytes by input i's key).
/// Returns (the value flows, for composing contracts): varint M ‖ M × i64 (output balance minus the
/// matching input's; a new account's whole balance).
/// The checker enforces: signature from every payer (and the sponsor), every given signature valid,
/// no negative balance (no overdraft), total value conserved (nothing created from nothing), and
/// returns equal to the actual flows. Signatures cover
/// H('M' ‖ v ‖ alg ‖ procedure ‖ varint N ‖ input ids ‖ varint M ‖ output bodies).
/// </summary>
public sealed class CsCoin : Contract
{
    public const string ContractName = "cscoin";
    public const string AccountType = "account";
    public const string TransferProcedure = "transfer";
    public const string CreateAccountProcedure = "createAccount";
    public const int AccountPayloadSize = Ed25519PublicKey.Size + 8;

    public static readonly CsCoin Instance = new();

    private CsCoin() : base(ContractName, AccountType) { }

    public override bool Check(in TraceView trace, in TraceList dependencies)
    {
        bool create;
        if (trace.ProcedureIs("transfer"u8)) create = false;
        else if (trace.ProcedureIs("createAccount"u8)) create = true;
        else return false;

        var inputs = trace.Inputs;
        var outputs = trace.Outputs;
        int n = inputs.Count;
        int m = outputs.Count;
        if (n == 0 || trace.References.Count != 0 || dependencies.Count != 0) return false;
        if (create ? n != 1 || m != 2 : m != n) return false;

        // Balances: no overdraft, conservation, keys kept.
        Int128 totalIn = 0, totalOut = 0;
        Span<long> flows = stackalloc long[64];
        if (m > flows.Length) return false;
        for (int i = 0; i < m; i++)
        {
            if (!TryReadAccount(outputs[i].Payload, out var outKey, out long outBalance) || outBalance < 0) return false;
            long inBalance = 0;
            if (i < n)
            {
                if (!TryReadAccount(inputs[i].Payload, out var inKey, out inBalance)) return false;
                if (!outKey.SequenceEqual(inKey)) return false;
            }
            else if (!Ed25519PublicKey.TryCreate(outKey, out _))
            {
                return false;   // a new account must be spendable by someone
            }
            totalOut += outBalance;
            flows[i] = outBalance - inBalance;   // both non-negative longs: cannot overflow
        }
        for (int i = 0; i < n; i++)
        {
            TryReadAccount(inputs[i].Payload, out _, out long inBalance);
            totalIn += inBalance;
        }
        if (totalIn != totalOut) return false;

        if (!ReturnsMatch(trace.Returns, flows[..m])) return false;
        return SignaturesValid(trace, create, flows[..n]);
    }

    private static bool ReturnsMatch(ReadOnlySpan<byte> returns, ReadOnlySpan<long> flows)
    {
        var reader = new SpanReader(returns);
        if (!reader.TryReadVarUInt64(out ulong count) || count != (ulong)flows.Length) return false;
        for (int i = 0; i < flows.Length; i++)
        {
            if (!reader.TryReadInt64LittleEndian(out long flow) || flow != flows[i]) return false;
        }
        return reader.End;
    }

    private static bool SignaturesValid(in TraceView trace, bool create, ReadOnlySpan<long> inputFlows)
    {
        var reader = new SpanReader(trace.Parameters);
        if (!reader.TryReadVarUInt64(out ulong count) || count != (ulong)inputFlows.Length) return false;

        Span<byte> message = stackalloc byte[Hash256.Size];
        bool messageReady = false;
        var inputs = trace.Inputs;
        for (int i = 0; i < inputFlows.Length; i++)
        {
            if (!reader.TryReadBlob(Ed25519PublicKey.SignatureSize, out var signature)) return false;
            bool required = inputFlows[i] < 0 || create;
            if (signature.IsEmpty)
            {
                if (required) return false;
                continue;
            }
            if (signature.Length != Ed25519PublicKey.SignatureSize) return false;
            if (!messageReady)
            {
                SigningMessage(trace, message);
                messageReady = true;
            }
            TryReadAccount(inputs[i].Payload, out var key, out _);
            if (!Ed25519PublicKey.Verify(key, message, signature)) return false;
        }
        return reader.End;
    }

    private static bool TryReadAccount(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> key, out long balance)
    {
        if (payload.Length != AccountPayloadSize)
        {
            key = default;
            balance = 0;
            return false;
        }
        key = payload[..Ed25519PublicKey.Size];
        balance = BinaryPrimitives.ReadInt64LittleEndian(payload[Ed25519PublicKey.Size..]);
        return true;
    }

    private static void SigningMessage(in TraceView trace, Span<byte> digest)
    {
        var inputs = trace.Inputs;
        var outputs = trace.Outputs;
        int length = SpanWriter.BlobLength(trace.Procedure.Length) + 20 + inputs.Count * Hash256.Size;
        for (int i = 0; i < outputs.Count; i++) length += outputs[i].Body.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var w = new SpanWriter(rented);
            w.WriteBlob(trace.Procedure);
            w.WriteVarUInt64((ulong)inputs.Count);
            for (int i = 0; i < inputs.Count; i++) w.WriteHash(inputs[i].Id);
            w.WriteVarUInt64((ulong)outputs.Count);
            for (int i = 0; i < outputs.Count; i++) w.WriteBytes(outputs[i].Body);
            Hashing.Domain(HashDomain.ContractMessage, w.WrittenSpan).WriteTo(digest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // ------------------------------------------------------------ client side

    public static ObjectBody Account(Ed25519PublicKey owner, long balance) => Account(owner.Bytes, balance);

    public static ObjectBody Account(ReadOnlySpan<byte> owner, long balance)
    {
        if (owner.Length != Ed25519PublicKey.Size) throw new ArgumentException("owner is a 32-byte Ed25519 public key", nameof(owner));
        var payload = new byte[AccountPayloadSize];
        owner.CopyTo(payload);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(Ed25519PublicKey.Size), balance);
        return new ObjectBody(ContractName, AccountType, payload);
    }

    public static (byte[] Owner, long Balance) ReadAccount(ObjectBody body)
    {
        if (body.Contract != ContractName || body.Type != AccountType || !TryReadAccount(body.Payload.Span, out var key, out long balance))
            throw new ArgumentException("not a CSCoin account", nameof(body));
        return (key.ToArray(), balance);
    }

    /// <summary>
    /// A transfer: input i becomes an account with the same key and <paramref name="newBalances"/>[i].
    /// <paramref name="signers"/>[i] signs for input i (null leaves it unsigned: only valid for payees).
    /// </summary>
    public static Trace Transfer(IReadOnlyList<ChainObject> inputs, IReadOnlyList<Ed25519KeyPair?> signers, IReadOnlyList<long> newBalances)
    {
        if (signers.Count != inputs.Count || newBalances.Count != inputs.Count) throw new ArgumentException("one signer slot and one new balance per input");
        var outputs = new ObjectBody[inputs.Count];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = Account(ReadAccount(inputs[i].Body).Owner, newBalances[i]);
        return Build(TransferProcedure, inputs, signers, outputs);
    }

    /// <summary>The sponsor funds a new account owned by <paramref name="newOwner"/> with <paramref name="amount"/>.</summary>
    public static Trace CreateAccount(ChainObject sponsor, Ed25519KeyPair sponsorKey, Ed25519PublicKey newOwner, long amount)
    {
        var (owner, balance) = ReadAccount(sponsor.Body);
        var outputs = new[] { Account(owner, balance - amount), Account(newOwner, amount) };
        return Build(CreateAccountProcedure, [sponsor], [sponsorKey], outputs);
    }

    /// <summary>Builds a trace with the given outputs and honest returns; signs with the given keys.</summary>
    public static Trace Build(string procedure, IReadOnlyList<ChainObject> inputs, IReadOnlyList<Ed25519KeyPair?> signers, IReadOnlyList<ObjectBody> outputs)
    {
        var message = SigningMessage(procedure, inputs, outputs);
        var parameters = new ArrayBufferWriter<byte>();
        WriteVarint(parameters, (ulong)inputs.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (signers[i] is { } key)
            {
                WriteVarint(parameters, Ed25519PublicKey.SignatureSize);
                parameters.Write(key.Sign(message));
            }
            else
            {
                WriteVarint(parameters, 0);
            }
        }
        return new Trace(ContractName, procedure, inputs: inputs, outputs: outputs,
            parameters: parameters.WrittenMemory.ToArray(), returns: Flows(inputs, outputs));
    }

    /// <summary>The returns a checker expects: per output, its balance minus its input's.</summary>
    public static byte[] Flows(IReadOnlyList<ChainObject> inputs, IReadOnlyList<ObjectBody> outputs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteVarint(buffer, (ulong)outputs.Count);
        for (int i = 0; i < outputs.Count; i++)
        {
            long outBalance = ReadAccount(outputs[i]).Balance;
            long inBalance = i < inputs.Count ? ReadAccount(inputs[i].Body).Balance : 0;
            var span = buffer.GetSpan(8);
            BinaryPrimitives.WriteInt64LittleEndian(span, outBalance - inBalance);
            buffer.Advance(8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The digest the owners sign (same bytes as the checker's <see cref="SigningMessage(in TraceView, Span{byte})"/>).</summary>
    public static byte[] SigningMessage(string procedure, IReadOnlyList<ChainObject> inputs, IReadOnlyList<ObjectBody> outputs)
    {
        int length = SpanWriter.NameLength(procedure) + 20 + inputs.Count * Hash256.Size;
        foreach (var o in outputs) length += o.GetEncodedLength();
        var bytes = new byte[length];
        var w = new SpanWriter(bytes);
        w.WriteName(procedure);
        w.WriteVarUInt64((ulong)inputs.Count);
        foreach (var o in inputs) w.WriteHash(o.Id);
        w.WriteVarUInt64((ulong)outputs.Count);
        foreach (var o in outputs) o.Encode(ref w);
        return Hashing.Domain(HashDomain.ContractMessage, w.WrittenSpan).ToArray();
    }

    private static void WriteVarint(ArrayBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        var w = new SpanWriter(span);
        w.WriteVarUInt64(value);
        buffer.Advance(w.Written);
    }
}
