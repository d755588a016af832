using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Codec;
using Chainspace.Core.Model;
using Chainspace.Core.Validation;
using Chainspace.Storage.Merkle;
using Chainspace.Storage.Objects;

namespace Chainspace.Sbac.Tests;

/// <summary>
/// S-BAC over the real batched PBFT replica: 2 shards × 4 replicas in one process, a synchronous
/// in-memory network, and a test client that collects the shards' signed votes into LOCALPREPARED
/// proofs and sequences the Accept in every concerned shard. Every replica of a shard must reach the
/// same decision and state.
/// </summary>
public sealed class SbacOverPbftTests
{
    private const int Shards = 2, N = 4;
    private static readonly (ClusterConfig Config, IReadOnlyDictionary<NodeId, Core.Crypto.Ed25519KeyPair> Keys) Local =
        ClusterConfig.CreateLocal(Shards, N, seed: "sbac-over-pbft");
    private static readonly ChainObject[] Tokens = Dummy.GenesisTokens("e2e", 64).ToArray();

    private readonly Replica[,] _replicas = new Replica[Shards, N];
    private readonly SbacStateMachine[,] _apps = new SbacStateMachine[Shards, N];
    private readonly SbacInitiator[,] _initiators = new SbacInitiator[Shards, N];
    private readonly ulong[,] _executed = new ulong[Shards, N];
    private bool _useInitiators;
    private readonly Outbox _outbox = new();
    private readonly Queue<(int Shard, int To, int From, byte[] Payload)> _network = new();
    private readonly List<byte[]> _votes = [];   // every signed vote batch sent: to shards and to the test client
    private ulong _requestNumber;

    public SbacOverPbftTests()
    {
        var registry = new ContractRegistry(Dummy.Instance, CsCoin.Instance);
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        for (int s = 0; s < Shards; s++)
        {
            for (int r = 0; r < N; r++)
            {
                var id = new NodeId((ushort)s, (ushort)r);
                var signer = new Ed25519ReplicaSigner(Local.Config.Shard(s), Local.Keys[id]);
                var store = new ObjectStore(256);
                var genesis = Tokens.Where(t => Local.Config.ShardMap.ShardOf(t.Id) == s).Select(t => t.Id).ToArray();
                Assert.Equal(StoreResult.Ok, store.Create(genesis));
                var ledger = new ShardLedger(new ShardLedgerOptions
                {
                    Shard = (ushort)s, Map = Local.Config.ShardMap, Contracts = registry, TransactionsCapacity = 256,
                }, store, verifier);
                // The test client (7) asks for receipts: its transactions' signed votes come back to it after each batch.
                _apps[s, r] = new SbacStateMachine(ledger, new VoteSigner(Local.Config, id, signer), new SbacOutbox()) { SendsReceiptsTo = c => c == 7 };
                _replicas[s, r] = new Replica(Local.Config, id, signer, _apps[s, r], new ReplicaOptions());
                _initiators[s, r] = new SbacInitiator(Local.Config, id, verifier, new InitiatorOptions { BackupDelayTicks = 5, RetryDelayTicks = 10 });
            }
        }
    }

    private static ChainObject In(int shard, int k) => Tokens.Where(t => Local.Config.ShardMap.ShardOf(t.Id) == shard).ElementAt(k);

    /// <summary>The client sends the command to every replica of the shard (as the client library does on timeout).</summary>
    private void Submit(int shard, ReadOnlySpan<byte> operation, ulong client = 7)
    {
        var request = new byte[Wire.RequestLengthMax(operation.Length)];
        int length = Wire.WriteRequest(request, client, ++_requestNumber, operation);
        for (int r = 0; r < N; r++) Step(shard, r, Input.ClientRequest(request.AsSpan(0, length)));
    }

    private void Step(int shard, int replica, in Input input)
    {
        _replicas[shard, replica].Step(input, _outbox);
        ulong persisted = 0;
        var outputs = new List<(OutputKind Kind, int To, ulong PersistId, byte[] Payload)>();
        for (int i = 0; i < _outbox.Count; i++)
        {
            ref readonly var o = ref _outbox[i];
            outputs.Add((o.Kind, o.To, o.PersistId, _outbox.Payload(o).ToArray()));
        }
        _outbox.Clear();
        foreach (var (kind, to, persistId, payload) in outputs)
        {
            switch (kind)
            {
                case OutputKind.Send or OutputKind.SendAfterPersist:
                    _network.Enqueue((shard, to, replica, payload));
                    break;
                case OutputKind.Broadcast or OutputKind.BroadcastAfterPersist:
                    for (int r = 0; r < N; r++) if (r != replica) _network.Enqueue((shard, r, replica, payload));
                    break;
                case OutputKind.Persist or OutputKind.PersistLazy:
                    persisted = Math.Max(persisted, persistId);   // an in-memory disk: durable at once
                    break;
            }
        }
        var app = _apps[shard, replica].Outbox;
        var deliveries = new List<(uint Shard, byte[] Payload)>();
        for (int i = 0; i < app.Count; i++)
        {
            var o = app[i];
            if (o.Kind == SbacOutputKind.VotesToShard)
            {
                _votes.Add(app.Payload(o).ToArray());
                deliveries.Add((o.Shard, app.Payload(o).ToArray()));
            }
            else if (o.Kind == SbacOutputKind.VotesToClient)
            {
                _votes.Add(app.Payload(o).ToArray());   // what the client's receipt is made of
            }
        }
        app.Clear();
        if (_useInitiators) DriveInitiators(shard, replica, deliveries);
        if (persisted > 0) Step(shard, replica, Input.PersistCompleted(persisted));
    }

    /// <summary>Runs the initiators the way a node does: executed batches, votes to their shards, actions.</summary>
    private void DriveInitiators(int shard, int replica, List<(uint Shard, byte[] Payload)> deliveries)
    {
        var ledger = _apps[shard, replica].Ledger;
        var initiator = _initiators[shard, replica];
        if (ledger.BatchSequence != _executed[shard, replica])
        {
            _executed[shard, replica] = ledger.BatchSequence;
            initiator.OnBatchExecuted(ledger, _replicas[shard, replica].IsPrimary);
        }
        var from = new NodeId((ushort)shard, (ushort)replica);
        foreach (var (target, payload) in deliveries)
            for (int r = 0; r < N; r++)
            {
                _initiators[target, r].OnVotes(payload, from, _apps[target, r].Ledger, _replicas[target, r].IsPrimary);
                Act((int)target, r);
            }
        Act(shard, replica);
    }

    private void Act(int shard, int replica)
    {
        var initiator = _initiators[shard, replica];
        var actions = initiator.Actions.ToArray();
        initiator.ClearActions();
        foreach (var a in actions)
        {
            if (a.Kind == InitiatorActionKind.SubmitCommand)
            {
                Submit((int)a.Shard, a.Payload, ClientIds.ForReplica(new NodeId((ushort)shard, (ushort)replica)));
            }
            else if (_apps[a.Node.Shard, a.Node.Replica].Ledger.TryGetPendingBody(a.TransactionId, out var body))
            {
                initiator.OnBody(a.TransactionId, body, _replicas[shard, replica].IsPrimary);
                Act(shard, replica);
            }
        }
    }

    /// <summary>Delivers messages and ticks until nothing moves (bounded).</summary>
    private void Run()
    {
        for (int round = 0; round < 200; round++)
        {
            while (_network.Count > 0)
            {
                var (shard, to, from, payload) = _network.Dequeue();
                Step(shard, to, Input.Message(from, payload));
            }
            for (int s = 0; s < Shards; s++) for (int r = 0; r < N; r++)
            {
                Step(s, r, Input.Tick());
                if (!_useInitiators) continue;
                _initiators[s, r].OnTick(_replicas[s, r].IsPrimary, _apps[s, r].Ledger);
                Act(s, r);
            }
            if (_network.Count == 0 && round > 20) return;
        }
    }

    /// <summary>What the client's collector builds from the vote batches it has seen.</summary>
    private VoteCollector CollectVotes()
    {
        var verifier = ProofVerifier.FromConfiguration(Local.Config);
        var collector = new VoteCollector(Local.Config);
        var scratch = new Hash256[MerkleTree.MaxProofLength];
        foreach (var bytes in _votes)
        {
            Assert.True(VoteBatchMessage.TryDecode(bytes, out var m, out var failure), failure.Describe());
            var statement = verifier.StatementDigest(m.Shard, m.Sequence, m.LeafCount, m.Root);
            Assert.True(verifier.VerifyStatement(m.Shard, m.Signer, statement, m.Signature));
            var e = m.EnumerateEntries();
            while (e.MoveNext())
            {
                Assert.True(ProofVerifier.VerifyLeaf(m.Root, m.LeafCount, e.LeafIndex, e.TransactionId, e.Decision, e.Path, scratch));
                var path = new Hash256[e.Path.Length / Hash256.Size];
                for (int i = 0; i < path.Length; i++) path[i] = new Hash256(e.Path.Slice(i * Hash256.Size, Hash256.Size));
                collector.Add(e.TransactionId, m.Shard, e.Decision, m.Sequence, m.LeafCount, m.Root, e.LeafIndex, path, m.Signer, m.Signature);
            }
        }
        return collector;
    }

    private static byte[] PrepareOf(Transaction tx)
    {
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, tx.Encode());
        return op.WrittenSpan.ToArray();
    }

    private void AssertEveryReplica(int shard, Transaction tx, Decision? expected)
    {
        var digests = new HashSet<Hash256>();
        for (int r = 0; r < N; r++)
        {
            var ledger = _apps[shard, r].Ledger;
            Assert.True(ledger.TryGetTransaction(tx.Id, out _, out var final), $"s{shard}r{r} never saw {tx.Id.ToShortString()}");
            Assert.Equal(expected, final);
            ledger.CheckInvariants();
            digests.Add(ledger.StateDigest(ledger.BatchSequence));
        }
        Assert.Single(digests);
    }

    [Fact]
    public void SbacOverPbft_SingleShardTransaction_CommitsOnEveryReplicaOfItsShard()
    {
        var tx = Dummy.Spend([In(0, 0), In(0, 1)]);
        Submit(0, PrepareOf(tx));
        Run();
        AssertEveryReplica(0, tx, Decision.Commit);
        for (int r = 0; r < N; r++) Assert.Equal(ObjectState.Inactive, _apps[0, r].Ledger.Objects.GetState(In(0, 0).Id));
        Assert.True(CollectVotes().TryGetLocalPrepared(tx.Id, 0, out var d));   // the client's receipt
        Assert.Equal(Decision.Commit, d);
    }

    [Fact]
    public void SbacOverPbft_CrossShardTransaction_CommitsAtomicallyAndConflictAborts()
    {
        var tx = Dummy.Spend([In(0, 2), In(1, 0)]);
        var conflicting = Dummy.Spend([In(0, 3), In(1, 0)]);   // shares In(1, 0)
        var prepare = PrepareOf(tx);
        Submit(0, prepare);
        Submit(1, prepare);
        Run();
        Submit(0, PrepareOf(conflicting));
        Submit(1, PrepareOf(conflicting));
        Run();
        AssertEveryReplica(0, tx, null);   // prepared, locked, waiting for the Accept
        for (int r = 0; r < N; r++) Assert.Equal(ObjectState.Locked, _apps[1, r].Ledger.Objects.GetState(In(1, 0).Id));

        var collector = CollectVotes();
        Assert.Equal(Decision.Commit, collector.Outcome(tx.Id, [0, 1], uint.MaxValue, null));
        Assert.Equal(Decision.Abort, collector.Outcome(conflicting.Id, [0, 1], uint.MaxValue, null));

        foreach (var (t, decision) in new[] { (tx, Decision.Commit), (conflicting, Decision.Abort) })
        {
            var proofs = new ArrayBufferWriter<byte>();
            collector.WriteProofs(proofs, t.Id, [0, 1], decision);
            var accept = new ArrayBufferWriter<byte>();
            SbacCommand.WriteAccept(accept, t.Id, decision, proofs.WrittenSpan);
            Submit(0, accept.WrittenSpan);
            Submit(1, accept.WrittenSpan);
        }
        Run();

        AssertEveryReplica(0, tx, Decision.Commit);
        AssertEveryReplica(1, tx, Decision.Commit);
        AssertEveryReplica(0, conflicting, Decision.Abort);
        AssertEveryReplica(1, conflicting, Decision.Abort);
        for (int r = 0; r < N; r++)
        {
            Assert.Equal(ObjectState.Inactive, _apps[0, r].Ledger.Objects.GetState(In(0, 2).Id));
            Assert.Equal(ObjectState.Inactive, _apps[1, r].Ledger.Objects.GetState(In(1, 0).Id));
            Assert.Equal(ObjectState.Active, _apps[0, r].Ledger.Objects.GetState(In(0, 3).Id));   // the abort released it
            Assert.Equal(0, _apps[0, r].Ledger.Objects.LockingTransactions);
            Assert.Equal(0, _apps[1, r].Ledger.Objects.LockingTransactions);
        }
    }

    [Fact]
    public void SbacOverPbft_ClientPreparesInOneShardOnly_OtherShardPreparesImplicitlyAndBothCommit()
    {
        _useInitiators = true;
        var tx = Dummy.Spend([In(0, 4), In(1, 4)]);
        Submit(0, PrepareOf(tx));   // the client walks away after one shard
        Run();
        AssertEveryReplica(0, tx, Decision.Commit);
        AssertEveryReplica(1, tx, Decision.Commit);
        for (int r = 0; r < N; r++)
        {
            Assert.Equal(ObjectState.Inactive, _apps[1, r].Ledger.Objects.GetState(In(1, 4).Id));
            Assert.Equal(0, _apps[0, r].Ledger.Objects.LockingTransactions);
        }
    }

    [Fact]
    public void SbacOverPbft_OutputsInAShardNotConcerned_AreCreatedThere()
    {
        _useInitiators = true;
        var tx = Enumerable.Range(5, 20).Select(k => Dummy.Spend([In(0, k)]))
            .First(t => t.Ids.AllOutputs.Any(o => Local.Config.ShardMap.ShardOf(o.Id) == 1));
        Submit(0, PrepareOf(tx));
        Run();
        AssertEveryReplica(0, tx, Decision.Commit);
        AssertEveryReplica(1, tx, Decision.Commit);   // decided there through Create
        foreach (var o in tx.Ids.AllOutputs)
        {
            int shard = (int)Local.Config.ShardMap.ShardOf(o.Id);
            for (int r = 0; r < N; r++) Assert.Equal(ObjectState.Active, _apps[shard, r].Ledger.Objects.GetState(o.Id));
        }
    }
}
