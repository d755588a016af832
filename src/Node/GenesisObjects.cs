using Chainspace.Contracts;
using Chainspace.Core;
using Chainspace.Core.Model;
using Chainspace.Node.Config;

namespace Chainspace.Node;

/// <summary>
/// The objects a cluster file's genesis defines, computed identically by every node, client and load
/// generator: Dummy tokens (label, i) and CSCoin accounts (label + "/accounts", i).
/// </summary>
public static class GenesisObjects
{
    public static string AccountsLabel(GenesisSpec genesis) => genesis.Label + "/accounts";

    public static IEnumerable<ChainObject> DummyTokens(GenesisSpec genesis) => Dummy.GenesisTokens(genesis.Label, genesis.DummyObjects);

    public static IEnumerable<ChainObject> Accounts(GenesisSpec genesis)
    {
        string label = AccountsLabel(genesis);
        for (int i = 0; i < genesis.Accounts.Count; i++)
        {
            var a = genesis.Accounts[i];
            yield return Genesis.Object(label, (ulong)i, CsCoin.Account(a.Owner, a.Balance));
        }
    }

    public static IEnumerable<ChainObject> All(GenesisSpec genesis) => DummyTokens(genesis).Concat(Accounts(genesis));

    /// <summary>Ids of the genesis objects shard <paramref name="shard"/> manages.</summary>
    public static Hash256[] IdsForShard(ClusterFile file, int shard)
    {
        var map = file.Cluster.ShardMap;
        var ids = new List<Hash256>();
        foreach (var o in All(file.Genesis))
        {
            if (map.ShardOf(o.Id) == (uint)shard) ids.Add(o.Id);
        }
        return ids.ToArray();
    }
}
