using System.Buffers;
using Chainspace.Consensus;
using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Sbac;

namespace Chainspace.Simulation;

/// <summary>
/// A workload client of the multi-shard simulator. A correct client owns a pool of objects, builds Dummy
/// spends and CSCoin transfers over 1..K shards (sometimes two transactions spending the same object: a
/// deliberate double spend), sends Prepare(T) to the primary of every concerned shard and to all replicas on
/// timeout, and learns the decision by re-sending Prepare(T), which a shard answers with its recorded vote or
/// decision (f+1 matching replies). Its pool follows the decisions. A Byzantine client abandons transactions
/// after one shard, sends two different transactions over the same inputs to different shards, sends bodies
/// that do not decode to what it claims, and submits Accepts without proofs.
/// </summary>
public sealed class TxClient
{
    private sealed class InFlight
    {
        public required Transaction Tx;
        public required uint[] Shards;
        public readonly Dictionary<uint, (ulong Number, long Sent, bool Answered, bool ToAll)> Requests = new();
    }

    private readonly MultiShardSimulator _sim;
    private readonly SimRandom _random;
    private readonly List<ChainObject> _pool;
    private readonly Dictionary<Hash256, int> _inFlightUses = new();
    private readonly HashSet<Hash256> _consumed = new();
    private readonly List<InFlight> _inFlight = new();
    private readonly Dictionary<ulong, (InFlight Tx, uint Shard)> _byNumber = new();
    private readonly ReplyCollector[] _collectors;
    private readonly ulong[] _viewGuess;
    private ulong _nextNumber;
    private int _built;

    public TxClient(MultiShardSimulator sim, ulong id, bool correct, List<ChainObject> pool, int total)
    {
        _sim = sim;
        Id = id;
        Correct = correct;
        _pool = pool;
        Total = total;
        _random = sim.Random.Fork();
        _collectors = new ReplyCollector[sim.Options.Shards];
        for (int s = 0; s < _collectors.Length; s++) _collectors[s] = new ReplyCollector(sim.Options.Replicas);
        _viewGuess = new ulong[sim.Options.Shards];
    }

    public ulong Id { get; }
    public bool Correct { get; }
    public int Total { get; }
    public int Decided { get; private set; }
    public int Committed { get; private set; }
    public bool Done => !Correct || (_inFlight.Count == 0 && (_built >= Total || !CanBuild()));
    public string Status => $"client {Id}: built {_built}/{Total}, decided {Decided}, in flight [{string.Join(" ", _inFlight.Select(f => f.Tx.Id.ToShortString()))}]";

    public void OnTick(long nowTick)
    {
        if (!Correct)
        {
            if (_built < Total && _random.Chance(0.05)) Attack();
            return;
        }
        foreach (var f in _inFlight.ToArray())
        {
            foreach (uint shard in f.Shards)
            {
                var r = f.Requests[shard];
                if (nowTick - r.Sent < _sim.Options.ClientRetryTicks) continue;
                // Unanswered: the same request to every replica. Answered but undecided: ask again (a new request).
                if (r.Answered) SendPrepare(f, shard, nowTick, toAll: false);
                else Send(f, shard, r.Number, nowTick, toAll: true);
            }
        }
        while (_inFlight.Count < _sim.Options.ClientWindow && _built < Total && CanBuild()) Submit(nowTick);
    }

    public void OnReply(uint shard, int from, byte[] message, long nowTick)
    {
        if (!Correct) return;
        if (Wire.TryReadReply(message, 1 << 20, out var peek) && peek.View > _viewGuess[shard]) _viewGuess[shard] = peek.View;
        if (!_collectors[shard].TryAccept(from, message, Id, out ulong number, out var status, out var result)) return;
        if (!_byNumber.Remove(number, out var entry) || !_inFlight.Contains(entry.Tx)) return;
        var f = entry.Tx;
        if (status == ReplyStatus.Executed && LedgerReply.TryRead(result, out var reply) && reply.Status == LedgerStatus.Decided && reply.Decision is { } decision)
        {
            if (reply.TransactionId != f.Tx.Id) _sim.Fail($"client {Id}: shard {shard} answered Prepare({f.Tx.Id.ToShortString()}) about {reply.TransactionId.ToShortString()}");
            Finish(f, decision);
            return;
        }
        var r = f.Requests[shard];
        if (r.Number == number) f.Requests[shard] = (r.Number, nowTick, true, r.ToAll);
    }

    // ------------------------------------------------------------ correct workload

    private bool CanBuild() => _pool.Count > 0;

    private void Submit(long nowTick)
    {
        var first = Build(avoid: null);
        if (first is null)
        {
            _built = Total;   // nothing left to spend
            return;
        }
        Start(first, nowTick);
        if (_built < Total && _random.Chance(_sim.Options.DoubleSpend))
        {
            // A deliberate double spend: another transaction over one of the same inputs.
            var shared = Universe.Inputs(first).ElementAt(_random.Next(Universe.Inputs(first).Count()));
            var second = Build(avoid: shared);
            if (second is not null) Start(second, nowTick);
        }
    }

    private void Start(Transaction tx, long nowTick)
    {
        _built++;
        _sim.Universe.Register(tx, correct: true);
        foreach (var o in Universe.Inputs(tx))
        {
            _pool.Remove(o);
            _inFlightUses[o.Id] = _inFlightUses.GetValueOrDefault(o.Id) + 1;
        }
        var f = new InFlight { Tx = tx, Shards = _sim.Universe.ConcernedShards(tx) };
        _inFlight.Add(f);
        _sim.Trace($"client {Id} submits {tx.Id.ToShortString()} to shards [{string.Join(",", f.Shards)}] spending [{string.Join(" ", Universe.Inputs(tx).Select(o => o.Id.ToShortString()))}]");
        foreach (uint shard in f.Shards) SendPrepare(f, shard, nowTick, toAll: false);
    }

    private void Finish(InFlight f, Decision decision)
    {
        _inFlight.Remove(f);
        Decided++;
        _sim.Trace($"client {Id} learns {f.Tx.Id.ToShortString()} {decision}");
        foreach (var o in Universe.Inputs(f.Tx))
        {
            _inFlightUses[o.Id]--;
            if (decision == Decision.Commit) _consumed.Add(o.Id);
        }
        if (decision == Decision.Commit)
        {
            Committed++;
            foreach (var o in f.Tx.Ids.AllOutputs) _pool.Add(o);
        }
        foreach (var o in Universe.Inputs(f.Tx).DistinctBy(o => o.Id))
        {
            if (decision == Decision.Abort && !_consumed.Contains(o.Id) && _inFlightUses[o.Id] == 0 && !_pool.Contains(o)) _pool.Add(o);
        }
    }

    /// <summary>A Dummy spend or CSCoin transfer over 1..min(K,3) shards, fresh id; null if the pool is empty.
    /// With <paramref name="avoid"/> set, that object is the first input (a double spend of it).</summary>
    private Transaction? Build(ChainObject? avoid)
    {
        bool coin = _random.Chance(_sim.Options.CsCoinShare) && (avoid is null ? _pool.Any(Universe.IsAccount) : Universe.IsAccount(avoid));
        if (avoid is not null && !coin && Universe.IsAccount(avoid)) return null;
        var candidates = _pool.Where(o => Universe.IsAccount(o) == coin).ToList();
        int span = _random.Range(1, Math.Min(_sim.Options.Shards, 3));
        var inputs = new List<ChainObject>();
        var shards = new HashSet<uint>();
        if (avoid is not null)
        {
            inputs.Add(avoid);
            shards.Add(_sim.Universe.Map.ShardOf(avoid.Id));
        }
        while (candidates.Count > 0 && inputs.Count < span)
        {
            int i = _random.Next(candidates.Count);
            var o = candidates[i];
            candidates.RemoveAt(i);
            if (shards.Add(_sim.Universe.Map.ShardOf(o.Id)) || _random.Chance(0.2)) inputs.Add(o);
        }
        if (inputs.Count == 0) return null;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            var tx = coin ? Transfer(inputs) : Dummy.Spend(inputs, Nonce());
            if (!_sim.Universe.IsKnown(tx.Id)) return tx;
        }
        return null;
    }

    private byte[] Nonce()
    {
        var nonce = new byte[8];
        _random.NextBytes(nonce);
        return nonce;
    }

    private Transaction Transfer(List<ChainObject> inputs)
    {
        long total = inputs.Sum(Universe.Balance);
        var balances = new long[inputs.Count];
        long left = total;
        for (int i = 0; i < balances.Length - 1; i++)
        {
            balances[i] = _random.Range(0, (int)left);
            left -= balances[i];
        }
        balances[^1] = left;
        var signers = inputs.Select(o => (Ed25519KeyPair?)_sim.Universe.OwnerOf(o.Id)).ToArray();
        return new Transaction(CsCoin.Transfer(inputs, signers, balances));
    }

    private void SendPrepare(InFlight f, uint shard, long nowTick, bool toAll)
    {
        ulong number = ++_nextNumber;
        _collectors[shard].Expect(number);
        _byNumber[number] = (f, shard);
        Send(f, shard, number, nowTick, toAll);
    }

    private void Send(InFlight f, uint shard, ulong number, long nowTick, bool toAll)
    {
        f.Requests[shard] = (number, nowTick, false, toAll);
        var message = Request(Id, number, PrepareCommand(f.Tx.Encode()));
        if (toAll)
        {
            for (int r = 0; r < _sim.Options.Replicas; r++) _sim.SendRequest(Id, shard, r, message);
        }
        else
        {
            _sim.SendRequest(Id, shard, (int)(_viewGuess[shard] % (ulong)_sim.Options.Replicas), message);
        }
    }

    public static byte[] PrepareCommand(ReadOnlySpan<byte> body)
    {
        var op = new ArrayBufferWriter<byte>();
        SbacCommand.WritePrepare(op, body);
        return op.WrittenSpan.ToArray();
    }

    public static byte[] Request(ulong client, ulong number, ReadOnlySpan<byte> operation)
    {
        var buffer = new byte[Wire.RequestLengthMax(operation.Length)];
        int length = Wire.WriteRequest(buffer, client, number, operation);
        return buffer.AsSpan(0, length).ToArray();
    }

    // ------------------------------------------------------------ Byzantine client

    private void Attack()
    {
        _built++;
        int kind = _random.Next(4);
        var tokens = _pool.Where(o => !Universe.IsAccount(o)).ToList();
        var inputs = new List<ChainObject>();
        var shards = new HashSet<uint>();
        foreach (var o in tokens)
        {
            if (inputs.Count >= 3) break;
            if (shards.Add(_sim.Universe.Map.ShardOf(o.Id))) inputs.Add(o);
        }
        if (inputs.Count == 0 && kind != 3) return;
        foreach (var o in inputs) _pool.Remove(o);
        switch (kind)
        {
            case 0:
            {
                // Abandons T after one shard: the other shards learn it only through votes.
                var tx = Dummy.Spend(inputs, Nonce());
                _sim.Universe.Register(tx, correct: false);
                var concerned = _sim.Universe.ConcernedShards(tx);
                SendToShard(concerned[_random.Next(concerned.Length)], PrepareCommand(tx.Encode()));
                _sim.Trace($"byzantine client {Id}: {tx.Id.ToShortString()} to one shard only");
                break;
            }
            case 1:
            {
                // Two different transactions over the same inputs, one per shard ("different bodies").
                var a = Dummy.Spend(inputs, Nonce());
                var b = Dummy.Spend(inputs, Nonce());
                _sim.Universe.Register(a, correct: false);
                _sim.Universe.Register(b, correct: false);
                var concerned = _sim.Universe.ConcernedShards(a);
                for (int i = 0; i < concerned.Length; i++)
                {
                    bool first = concerned.Length == 1 ? _random.Chance(0.5) : i % 2 == 0;
                    SendToShard(concerned[i], PrepareCommand((first ? a : b).Encode()));
                    if (_random.Chance(0.3)) SendToShard(concerned[i], PrepareCommand((first ? b : a).Encode()));
                }
                _sim.Trace($"byzantine client {Id}: split bodies {a.Id.ToShortString()} / {b.Id.ToShortString()}");
                break;
            }
            case 2:
            {
                // A body that is not what it claims: one byte flipped (malformed, or another transaction).
                var tx = Dummy.Spend(inputs, Nonce());
                var body = tx.Encode();
                body[1 + _random.Next(body.Length - 1)] ^= (byte)(1 + _random.Next(255));
                foreach (uint shard in _sim.Universe.ConcernedShards(tx)) SendToShard(shard, PrepareCommand(body));
                _sim.Trace($"byzantine client {Id}: garbled body of {tx.Id.ToShortString()}");
                break;
            }
            default:
            {
                // An Accept with no proof for some transaction in flight (its own or a correct client's).
                var known = _sim.Universe.Transactions.ToList();
                if (known.Count == 0) return;
                var victim = known[_random.Next(known.Count)].Tx;
                var decision = _random.Chance(0.5) ? Decision.Commit : Decision.Abort;
                var op = new ArrayBufferWriter<byte>();
                SbacCommand.WriteAccept(op, victim.Id, decision, [0]);
                foreach (uint shard in _sim.Universe.ConcernedShards(victim)) SendToShard(shard, op.WrittenSpan.ToArray());
                _sim.Trace($"byzantine client {Id}: Accept({victim.Id.ToShortString()}, {decision}) without proof");
                break;
            }
        }
    }

    private void SendToShard(uint shard, byte[] operation)
    {
        var message = Request(Id, ++_nextNumber, operation);
        for (int r = 0; r < _sim.Options.Replicas; r++) _sim.SendRequest(Id, shard, r, message);
    }
}
