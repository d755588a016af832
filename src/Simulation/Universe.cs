using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;

namespace Chainspace.Simulation;

/// <summary>
/// Everything the multi-shard simulator knows from outside the replicas: the genesis objects (Dummy tokens
/// and CSCoin accounts, with their owners' keys), every transaction any client built, and which client built
/// it. The checker compares the replicas' state with it; it is never consulted by the protocol.
/// </summary>
public sealed class Universe
{
    public const long AccountBalance = 1000;
    private readonly Dictionary<Hash256, (Transaction Tx, bool Correct)> _transactions = new();
    private readonly Dictionary<Hash256, ChainObject> _objects = new();
    private readonly Dictionary<Hash256, Ed25519KeyPair> _owners = new();

    public Universe(ulong seed, ShardMap map, int tokens, int accounts)
    {
        Map = map;
        foreach (var t in Dummy.GenesisTokens($"sim/{seed}", tokens))
        {
            Genesis.Add(t);
            _objects[t.Id] = t;
        }
        for (int i = 0; i < accounts; i++)
        {
            var key = Ed25519KeyPair.FromPrivateKey(Hashing.Sha256(System.Text.Encoding.UTF8.GetBytes($"sim/{seed}/owner/{i}")).ToArray());
            var account = Core.Model.Genesis.Object($"sim/{seed}/accounts", (ulong)i, CsCoin.Account(key.PublicKey, AccountBalance));
            Genesis.Add(account);
            _objects[account.Id] = account;
            _owners[account.Id] = key;
            GenesisSupply += AccountBalance;
        }
    }

    public ShardMap Map { get; }
    public List<ChainObject> Genesis { get; } = new();
    public long GenesisSupply { get; }
    public IEnumerable<(Transaction Tx, bool Correct)> Transactions => _transactions.Values;
    public IEnumerable<ChainObject> Objects => _objects.Values;

    public Ed25519KeyPair? OwnerOf(in Hash256 objectId) => _owners.GetValueOrDefault(objectId);

    public bool TryGet(in Hash256 txId, out Transaction tx)
    {
        if (_transactions.TryGetValue(txId, out var entry))
        {
            tx = entry.Tx;
            return true;
        }
        tx = null!;
        return false;
    }

    public bool IsKnown(in Hash256 txId) => _transactions.ContainsKey(txId);

    public bool IsCorrect(in Hash256 txId) => _transactions.TryGetValue(txId, out var e) && e.Correct;

    /// <summary>Records a transaction; its outputs become known objects (an owner key carries over to
    /// the output that keeps the input's account).</summary>
    public void Register(Transaction tx, bool correct)
    {
        if (_transactions.ContainsKey(tx.Id))
        {
            if (correct) _transactions[tx.Id] = (tx, true);
            return;
        }
        _transactions[tx.Id] = (tx, correct);
        var outputs = tx.Ids.AllOutputs.ToArray();
        var inputs = tx.Traces[0].Inputs;
        for (int i = 0; i < outputs.Length; i++)
        {
            _objects[outputs[i].Id] = outputs[i];
            if (i < inputs.Count && _owners.TryGetValue(inputs[i].Id, out var key)) _owners[outputs[i].Id] = key;
        }
    }

    public static IEnumerable<ChainObject> Inputs(Transaction tx) => tx.Traces.SelectMany(t => t.Inputs);

    public uint[] ConcernedShards(Transaction tx) => Inputs(tx).Select(o => Map.ShardOf(o.Id)).Distinct().Order().ToArray();

    public uint[] OutputShards(Transaction tx) =>
        tx.Ids.AllOutputs.Select(o => Map.ShardOf(o.Id)).Distinct().Where(s => !ConcernedShards(tx).Contains(s)).Order().ToArray();

    public static bool IsAccount(ChainObject o) => o.Body.Contract == CsCoin.ContractName;

    public static long Balance(ChainObject o) => CsCoin.ReadAccount(o.Body).Balance;
}
