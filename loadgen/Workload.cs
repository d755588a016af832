using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core.Model;
using Chainspace.Node;
using Chainspace.Node.Config;

namespace Chainspace.LoadGen;

/// <summary>
/// Dummy transactions of k inputs, each input's shard chosen uniformly at random (paper §VI), drawn from
/// the genesis token pool without reuse, so every transaction is valid and conflicts only when asked to.
/// Built before the run, so building them does not compete with the cluster for the two cores.
/// </summary>
public static class Workload
{
    public static List<PreparedTransaction> Build(ClusterFile file, int inputs, int count, int seed)
    {
        var map = file.Cluster.ShardMap;
        int shards = file.Cluster.Shards.Count;
        var pools = new List<ChainObject>[shards];
        for (int s = 0; s < shards; s++) pools[s] = [];
        foreach (var token in GenesisObjects.DummyTokens(file.Genesis)) pools[map.ShardOf(token.Id)].Add(token);
        var next = new int[shards];
        var random = new Random(seed);
        var list = new List<PreparedTransaction>(count);
        var chosen = new ChainObject[inputs];
        for (int t = 0; t < count; t++)
        {
            for (int i = 0; i < inputs; i++)
            {
                int s = random.Next(shards);
                if (next[s] >= pools[s].Count) return list;   // the pool is exhausted: a shorter run
                chosen[i] = pools[s][next[s]++];
            }
            list.Add(new PreparedTransaction(Dummy.Spend(chosen), map));
        }
        return list;
    }
}
