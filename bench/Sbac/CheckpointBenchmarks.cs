using System.Buffers;
using BenchmarkDotNet.Attributes;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Validation;
using Chainspace.Sbac;
using Chainspace.Storage.Objects;

namespace Chainspace.Bench.Sbac;

/// <summary>
/// What a PBFT checkpoint costs the S-BAC ledger of one replica: the state digest (the ledger's canonical
/// snapshot, hashed) and the snapshot copied out beside it, for a state the size a node reaches at its first
/// checkpoint (2 × 4 load generator defaults: 125k genesis tokens and ~100k committed 1-input transactions per
/// shard). Every replica pays this at once, in the step that executes the checkpoint's batch, so on a node it is
/// a stall of every transaction in flight. One shard (K = 1), so every transaction is decided by its Prepare.
/// Run: dotnet run -c Release --project bench -- --filter '*Checkpoint*'
/// </summary>
[MemoryDiagnoser]
[WarmupCount(3)]
[IterationCount(10)]
public class CheckpointBenchmarks
{
    [Params(100_000)]
    public int Transactions { get; set; }

    public int GenesisObjects => Transactions + Transactions / 4;

    private Chainspace.Sbac.ShardLedger _ledger = null!;
    private ulong _sequence;
    private readonly ArrayBufferWriter<byte> _snapshot = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        var map = new ShardMap(1);
        var tokens = Dummy.GenesisTokens("checkpoint-bench", GenesisObjects).ToArray();
        var objects = new ObjectStore(GenesisObjects + Transactions);
        objects.Create(tokens.Select(t => t.Id).ToArray());
        _ledger = new Chainspace.Sbac.ShardLedger(new ShardLedgerOptions
        {
            Shard = 0, Map = map, Contracts = new ContractRegistry(Dummy.Instance), TransactionsCapacity = Transactions,
        }, objects, new NoProofs());
        var command = new ArrayBufferWriter<byte>();
        for (int i = 0; i < Transactions; i++)
        {
            if (i % 1024 == 0)
            {
                if (i > 0) _ledger.EndBatch(_sequence);
                _ledger.BeginBatch(++_sequence);
            }
            command.ResetWrittenCount();
            SbacCommand.WritePrepare(command, Dummy.Spend([tokens[i]]).Encode());
            if (_ledger.Execute(command.WrittenSpan).Status != LedgerStatus.Decided) throw new InvalidOperationException("setup transaction not decided");
        }
        _ledger.EndBatch(_sequence);
    }

    /// <summary>A new sequence number each time, so the ledger cannot serve its cached digest.</summary>
    [Benchmark]
    public Hash256 StateDigest() => _ledger.StateDigest(++_sequence);

    /// <summary>What a checkpoint asks for: the snapshot, built into the buffer the replica keeps, and its digest.</summary>
    [Benchmark]
    public Hash256 Checkpoint()
    {
        _snapshot.ResetWrittenCount();
        return _ledger.WriteCheckpoint(_snapshot, ++_sequence);
    }

    private sealed class NoProofs : IProofVerifier
    {
        public bool Verify(in LocalPreparedProof proof, in Hash256 txId) => false;
    }
}
