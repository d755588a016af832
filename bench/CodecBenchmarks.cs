using BenchmarkDotNet.Attributes;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Codec;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;

namespace Chainspace.Bench;

/// <summary>
/// The per-transaction work a replica does before consensus: decode (structure check and index),
/// id computation (the hash-DAG), and the Fig. 2 check, for the paper's 1-input Dummy transaction
/// and a 2-account CSCoin transfer. Encode is the client's side, from the model.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    public enum Workload { Dummy1, CsCoin2 }

    [Params(Workload.Dummy1, Workload.CsCoin2)]
    public Workload Kind { get; set; }

    private Transaction _model = null!;
    private byte[] _bytes = null!;
    private byte[] _encodeBuffer = null!;
    private ParsedTransaction _parsed = null!;
    private TransactionValidator _validator = null!;
    private States _states = null!;

    private sealed class States(IEnumerable<ChainObject> active) : IObjectStates
    {
        private readonly HashSet<Hash256> _active = active.Select(o => o.Id).ToHashSet();
        public bool IsUsable(in Hash256 objectId) => _active.Contains(objectId);
    }

    [GlobalSetup]
    public void Setup()
    {
        ChainObject[] inputs;
        if (Kind == Workload.Dummy1)
        {
            inputs = Dummy.GenesisTokens("bench", 1).ToArray();
            _model = Dummy.Spend(inputs);
        }
        else
        {
            using var alice = Ed25519KeyPair.Generate();
            using var bob = Ed25519KeyPair.Generate();
            inputs = [Genesis.Object("bench", 0, CsCoin.Account(alice.PublicKey, 100)), Genesis.Object("bench", 1, CsCoin.Account(bob.PublicKey, 100))];
            _model = new Transaction(CsCoin.Transfer(inputs, [alice, null], [60, 140]));
        }
        _bytes = _model.Encode();
        _encodeBuffer = new byte[_bytes.Length];
        _parsed = new ParsedTransaction(CodecLimits.Default);
        _validator = new TransactionValidator(new ContractRegistry(Dummy.Instance, CsCoin.Instance), CodecLimits.Default);
        _states = new States(inputs);
        if (!_parsed.TryParse(_bytes, out var failure)) throw new InvalidOperationException(failure.Describe());
        _parsed.ComputeIds(_bytes);
        if (!Check()) throw new InvalidOperationException("benchmark transaction is not valid");
    }

    [Benchmark]
    public int Encode() => _model.Encode(_encodeBuffer);

    [Benchmark]
    public bool Decode() => _parsed.TryParse(_bytes, out _);

    [Benchmark]
    public Hash256 ComputeIds() => _parsed.ComputeIds(_bytes);

    [Benchmark]
    public bool Check() => _validator.Validate(_parsed.View(_bytes), _states, ValidationScope.Everything).IsValid;
}
