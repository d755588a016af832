using System.Buffers;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Cluster;
using Chainspace.Core.Model;

namespace Chainspace.Sbac.Tests;

/// <summary>
/// Pre-built Dummy transactions for <see cref="InProcessSbacCluster"/>, every one valid: a pool of live
/// tokens per shard (genesis at first), each round spends tokens and the round's outputs become the next
/// round's tokens. Outputs land in a shard by hash, so about half of the 1-input transactions have their
/// input in one shard and their output in the other: that shard creates it through Create on the input
/// shard's LOCALPREPARED(commit) proof. <see cref="TwoShardPerMille"/> of them instead spend one token of
/// each shard (2 inputs, 2 concerned shards: Prepare in both, cross-shard votes, Accept in both).
/// </summary>
public sealed class DummyWorkload
{
    public sealed class Round
    {
        public required byte[][] Prepares { get; init; }
        public required uint[][] Targets { get; init; }          // concerned shards: where the client sends Prepare
        public required long[] DecisionsPerShard { get; init; }  // how many decisions each shard executes
        public int CrossShardOutputs { get; init; }              // 1-input transactions creating in the other shard
        public int TwoShard { get; init; }
    }

    private readonly ShardMap _map;
    private readonly Queue<ChainObject>[] _tokens;
    private readonly Queue<Round> _ready = new();
    private readonly int _transactions;
    private readonly int _twoShardPerMille;
    private long _made;

    public DummyWorkload(ShardMap map, int transactionsPerRound, int twoShardPerMille, string label = "bench")
    {
        _map = map;
        _transactions = transactionsPerRound;
        _twoShardPerMille = twoShardPerMille;
        _tokens = new Queue<ChainObject>[map.ShardCount];
        for (int s = 0; s < _tokens.Length; s++) _tokens[s] = new Queue<ChainObject>();
        // Twice a round's worth: a round only spends tokens that exist before it starts.
        Genesis = Dummy.GenesisTokens(label, 2 * transactionsPerRound + 64).ToArray();
        foreach (var t in Genesis) _tokens[map.ShardOf(t.Id)].Enqueue(t);
    }

    public ChainObject[] Genesis { get; }
    public int TransactionsPerRound => _transactions;
    public int TwoShardPerMille => _twoShardPerMille;
    public int ReadyRounds => _ready.Count;

    /// <summary>Builds rounds until <paramref name="count"/> are ready. A round's inputs are the outputs of
    /// the rounds before it, so rounds must run in the order they are taken.</summary>
    public void Prepare(int count)
    {
        while (_ready.Count < count) _ready.Enqueue(Build());
    }

    public Round Take()
    {
        if (_ready.Count == 0) throw new InvalidOperationException("no round prepared: call Prepare outside the measured region");
        return _ready.Dequeue();
    }

    private Round Build()
    {
        var prepares = new byte[_transactions][];
        var targets = new uint[_transactions][];
        var decisions = new long[_tokens.Length];
        var produced = new List<ChainObject>(2 * _transactions);
        int crossOutputs = 0, twoShard = 0;
        var op = new ArrayBufferWriter<byte>(512);
        for (int i = 0; i < _transactions; i++)
        {
            long k = _made++;
            bool two = _tokens.Length > 1 && k % 1000 < _twoShardPerMille;
            ChainObject[] inputs = two ? [TakeToken(0), TakeToken(1)] : [TakeToken(Fullest())];
            var tx = Dummy.Spend(inputs);
            var concerned = inputs.Select(t => _map.ShardOf(t.Id)).Distinct().Order().ToArray();
            var outputs = tx.Ids.AllOutputs.ToArray();
            var touched = new HashSet<uint>(concerned);
            foreach (var o in outputs)
            {
                touched.Add(_map.ShardOf(o.Id));
                produced.Add(o);
            }
            foreach (uint s in touched) decisions[s]++;
            if (two) twoShard++;
            else if (touched.Count > 1) crossOutputs++;
            op.ResetWrittenCount();
            SbacCommand.WritePrepare(op, tx.Encode());
            prepares[i] = op.WrittenSpan.ToArray();
            targets[i] = concerned;
        }
        foreach (var o in produced) _tokens[_map.ShardOf(o.Id)].Enqueue(o);
        return new Round
        {
            Prepares = prepares, Targets = targets, DecisionsPerShard = decisions,
            CrossShardOutputs = crossOutputs, TwoShard = twoShard,
        };
    }

    private int Fullest()
    {
        int best = 0;
        for (int s = 1; s < _tokens.Length; s++)
        {
            if (_tokens[s].Count > _tokens[best].Count) best = s;
        }
        return best;
    }

    private ChainObject TakeToken(int shard) =>
        _tokens[shard].Count > 0 ? _tokens[shard].Dequeue() : throw new InvalidOperationException($"shard {shard} ran out of tokens");
}
