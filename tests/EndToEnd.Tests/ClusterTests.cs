using System.Net.Sockets;
using Chainspace.Client;
using Chainspace.Contracts;
using Chainspace.Core.Cluster;
using Chainspace.Core.Crypto;
using Chainspace.Core.Model;
using Chainspace.Node.Protocol;
using Chainspace.Storage.Objects;
using Chainspace.Transport;

namespace Chainspace.EndToEnd.Tests;

/// <summary>
/// S-BAC end to end on real processes: 2 shards × 4 replica processes on 127.0.0.1 per test. Every test is
/// bounded by its waits (at most a minute or two) and removes its cluster when done.
/// </summary>
[Collection("processes")]   // one cluster at a time: eight processes already fill two cores
public sealed class ClusterTests
{
    private static Transaction Transfer(ChainObject from, Ed25519KeyPair fromKey, ChainObject to, long amount)
    {
        var (_, fromBalance) = CsCoin.ReadAccount(from.Body);
        var (_, toBalance) = CsCoin.ReadAccount(to.Body);
        return new Transaction(CsCoin.Transfer([from, to], [fromKey, null], [fromBalance - amount, toBalance + amount]));
    }

    /// <summary>Two accounts managed by different shards.</summary>
    private static (int From, int To) CrossShardPair(TestCluster c)
    {
        for (int i = 0; i < c.Accounts.Length; i++)
            for (int j = 0; j < c.Accounts.Length; j++)
                if (c.Map.ShardOf(c.Accounts[i].Id) != c.Map.ShardOf(c.Accounts[j].Id)) return (i, j);
        throw new InvalidOperationException("all genesis accounts landed in one shard");
    }

    [Fact]
    public async Task CrossShardTransfer_Commits_AndBalancesAreRight()
    {
        await using var c = await TestCluster.StartAsync();
        await using var client = await c.ConnectAsync();
        var (from, to) = CrossShardPair(c);
        var tx = Transfer(c.Accounts[from], c.Owners[from], c.Accounts[to], 250);
        var prepared = c.Prepare(tx);
        Assert.Equal(2, prepared.ConcernedShards.Length);

        Assert.Equal(Outcome.Committed, await client.SubmitAsync(prepared));

        var outputs = tx.Ids.OutputsByTrace[0];
        Assert.Equal(750, CsCoin.ReadAccount(outputs[0].Body).Balance);
        Assert.Equal(1250, CsCoin.ReadAccount(outputs[1].Body).Balance);
        await c.AwaitStateAsync(client, c.Accounts[from].Id, ObjectState.Inactive);
        await c.AwaitStateAsync(client, c.Accounts[to].Id, ObjectState.Inactive);
        foreach (var o in outputs) await c.AwaitStateAsync(client, o.Id, ObjectState.Active);

        // A second transfer spends the new account objects: the chain continues.
        var next = Transfer(outputs[1], c.Owners[to], outputs[0], 1250);
        Assert.Equal(Outcome.Committed, await client.SubmitAsync(c.Prepare(next)));
        Assert.Equal(0, CsCoin.ReadAccount(next.Ids.OutputsByTrace[0][0].Body).Balance);
        Assert.Equal(2000, CsCoin.ReadAccount(next.Ids.OutputsByTrace[0][1].Body).Balance);
    }

    [Fact]
    public async Task DoubleSpendBurst_FromSeveralClients_CommitsAtMostOne_AndSupplyIsUnchanged()
    {
        await using var c = await TestCluster.StartAsync();
        var clients = new List<ChainspaceClient>();
        for (int i = 0; i < 4; i++) clients.Add(await c.ConnectAsync());
        try
        {
            int victim = 0;
            // Eight different transactions spend the same account, each paying a different payee.
            var attempts = new List<(Transaction Tx, Task<Outcome> Outcome)>();
            for (int k = 1; k < TestCluster.AccountCount; k++)
            {
                var tx = Transfer(c.Accounts[victim], c.Owners[victim], c.Accounts[k], 100 + k);
                attempts.Add((tx, clients[k % clients.Count].SubmitAsync(c.Prepare(tx))));
            }
            var outcomes = await Task.WhenAll(attempts.Select(a => a.Outcome));
            Assert.DoesNotContain(Outcome.TimedOut, outcomes);
            Assert.True(outcomes.Count(o => o == Outcome.Committed) <= 1, $"outcomes: {string.Join(", ", outcomes)}");

            // Supply: the active account objects after the burst hold exactly the genesis total.
            long supply = 0;
            var client = clients[0];
            var candidates = c.Accounts.Concat(attempts.SelectMany(a => a.Tx.Ids.OutputsByTrace[0])).ToList();
            foreach (var o in candidates)
            {
                await TestCluster.EventuallyAsync(async () =>
                {
                    var s = await client.QueryObjectAsync(o.Id, TimeSpan.FromSeconds(5));
                    return s is not ObjectState.Locked;   // every transaction is decided: no lock remains
                }, TimeSpan.FromSeconds(30), $"{o.Id.ToShortString()} unlocked");
                if (await client.QueryObjectAsync(o.Id, TimeSpan.FromSeconds(5)) == ObjectState.Active) supply += CsCoin.ReadAccount(o.Body).Balance;
            }
            Assert.Equal(TestCluster.AccountCount * TestCluster.AccountBalance, supply);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task KillOneReplicaPerShard_UnderLoad_ClusterKeepsCommitting_AndRestartedReplicaCatchesUp()
    {
        await using var c = await TestCluster.StartAsync(dummyObjects: 6000);
        await using var client = await c.ConnectAsync();
        var victims = new[] { new NodeId(0, 3), new NodeId(1, 2) };   // backups in view 0
        int next = 0;
        async Task<int> Commit(int count)
        {
            var tasks = new List<Task<Outcome>>();
            for (int i = 0; i < count; i++, next++) tasks.Add(client.SubmitAsync(c.Prepare(Dummy.Spend([c.Tokens[next]]))));
            return (await Task.WhenAll(tasks)).Count(o => o == Outcome.Committed);
        }

        Assert.Equal(200, await Commit(200));
        foreach (var v in victims) c.Local.Kill(v);
        Assert.Equal(600, await Commit(600));   // f = 1 per shard: still live
        foreach (var v in victims) c.Local.Start(v);
        for (int round = 0; round < 6; round++) Assert.Equal(100, await Commit(100));   // several batches: checkpoints past the outage

        // Every replica of each shard, the restarted one included, reaches the same stable checkpoint.
        foreach (var shard in new[] { 0, 1 })
        {
            await TestCluster.EventuallyAsync(async () =>
            {
                var stats = new List<NodeStats>();
                foreach (var r in c.File.Cluster.Shard(shard).Replicas) stats.Add(await c.StatsAsync(client, r.Id));
                ulong stable = stats.Min(s => s.StableSequence);
                return stable > 0 && stats.All(s => s.StableSequence == stable && s.StableDigest == stats[0].StableDigest);
            }, TimeSpan.FromSeconds(150), $"shard {shard}: all replicas at one stable checkpoint digest");   // generous: CI runs other test assemblies beside these processes
        }
        // And it answers with the same state as its peers.
        await c.AwaitStateAsync(client, c.Tokens[0].Id, ObjectState.Inactive);
        await c.AwaitStateAsync(client, c.Tokens[next - 1].Id, ObjectState.Inactive);
    }

    [Fact]
    public async Task KillPrimary_ViewChangeHappens_AndLoadResumes()
    {
        await using var c = await TestCluster.StartAsync();
        await using var client = await c.ConnectAsync();
        int next = 0;
        Assert.Equal(Outcome.Committed, await client.SubmitAsync(c.Prepare(Dummy.Spend([c.Tokens[next++]]))));
        // The primary of shard 0 as its own replicas see it (a startup view change may have moved it).
        NodeStats before = default;
        await TestCluster.EventuallyAsync(async () =>
        {
            before = await c.StatsAsync(client, new NodeId(0, 1));
            return before.ViewActive;
        }, TimeSpan.FromSeconds(30), "shard 0 in an active view");
        var primary = new NodeId(0, (ushort)(before.View % 4));
        c.Local.Kill(primary);

        var tokens = Enumerable.Range(next, 50).Select(i => c.Tokens[i]).Where(t => c.Map.ShardOf(t.Id) == 0).Take(10).ToArray();
        var outcomes = await Task.WhenAll(tokens.Select(t => client.SubmitAsync(c.Prepare(Dummy.Spend([t])))));
        Assert.All(outcomes, o => Assert.Equal(Outcome.Committed, o));
        var after = await c.StatsAsync(client, new NodeId(0, (ushort)((primary.Replica + 1) % 4)));
        Assert.True(after.View > before.View, $"killed {primary}; view {before.View} → {after.View}");
        Assert.True(after.ViewActive);
    }

    [Fact]
    public async Task WholeShardKilledAndRestarted_EveryReceiptedTransactionIsStillCommitted()
    {
        await using var c = await TestCluster.StartAsync();
        var committed = new List<Transaction>();
        await using (var client = await c.ConnectAsync())
        {
            var txs = Enumerable.Range(0, 300).Select(i => Dummy.Spend([c.Tokens[i]])).ToArray();
            var outcomes = await Task.WhenAll(txs.Select(t => client.SubmitAsync(c.Prepare(t))));
            for (int i = 0; i < txs.Length; i++) if (outcomes[i] == Outcome.Committed) committed.Add(txs[i]);
        }
        Assert.Equal(300, committed.Count);

        foreach (var r in c.File.Cluster.Shard(0).Replicas) c.Local.Kill(r.Id);   // kill -9, no flush
        foreach (var r in c.File.Cluster.Shard(0).Replicas) c.Local.Start(r.Id);

        await using var after = await c.ConnectAsync();
        await TestCluster.Eventually(() => after.AllConnected, TimeSpan.FromSeconds(60), "the restarted shard accepts connections");
        // The restarted shard works (this also carries any replica that restarted behind its peers forward).
        var fresh = c.Tokens.Skip(300).Where(t => c.Map.ShardOf(t.Id) == 0).Take(20).ToArray();
        Assert.All(await Task.WhenAll(fresh.Select(t => after.SubmitAsync(c.Prepare(Dummy.Spend([t]))))), o => Assert.Equal(Outcome.Committed, o));
        foreach (var tx in committed.Where(t => c.Map.ShardOf(t.Traces[0].Inputs[0].Id) == 0).Take(40))
        {
            await c.AwaitStateAsync(after, tx.Traces[0].Inputs[0].Id, ObjectState.Inactive);
        }
    }

    [Fact]
    public async Task HostileClient_MalformedFramesAndInvalidTransactions_GetErrors_AndChangeNoState()
    {
        await using var c = await TestCluster.StartAsync();
        await using var client = await c.ConnectAsync();
        var target = new NodeId(0, 0);
        var statsBefore = await c.StatsAsync(client, target);

        // 1. Garbage bytes on a raw socket: closed by the transport, the node keeps running.
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(c.File.Cluster.Replica(target).EndPoint);
            var stream = raw.GetStream();
            var garbage = new byte[4096];
            new Random(1).NextBytes(garbage);
            try
            {
                await stream.WriteAsync(garbage);
                var buffer = new byte[256];
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                while (await stream.ReadAsync(buffer, cts.Token) > 0) { }
            }
            catch (IOException)
            {
                // reset by the node: what we expect
            }
        }

        // 2. An authenticated client sending a malformed request frame: the connection is closed.
        await using (var transport = TransportFactory.Create(TransportKind.Socket, c.File.Cluster, LocalIdentity.Client(), new NullHandler(),
                         new TransportOptions { PeerFrameTypes = FrameType.PeerTypes, ClientFrameTypes = FrameType.ClientTypes }))
        {
            var connection = await transport.ConnectAsync(c.File.Cluster.Replica(target).EndPoint, target);
            connection.TrySend(FrameType.ClientRequest, [1, 2, 3]);
            await connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));   // the node closed it
            Assert.True(connection.IsClosed);
        }

        // 3. Invalid transactions over a valid client: rejected or aborted, nothing consumed.
        var token = c.Tokens.First(t => c.Map.ShardOf(t.Id) == 0);
        var bad = new List<PreparedTransaction>
        {
            // Output count differs from input count: the Dummy checker refuses.
            new(new Transaction(new Trace(Dummy.ContractName, Dummy.SpendProcedure, inputs: [token], outputs: [])), c.Map),
            // An input that does not exist.
            new(Dummy.Spend([Genesis.Object("nowhere", 1, Dummy.Token())]), c.Map),
            // An unknown contract.
            new(new Transaction(new Trace("nosuch", "spend", inputs: [token], outputs: [Dummy.Token()])), c.Map),
        };
        foreach (var tx in bad)
        {
            var outcome = await client.SubmitAsync(tx);
            Assert.True(outcome is Outcome.Aborted or Outcome.Rejected, $"{outcome}");
        }
        await c.AwaitStateAsync(client, token.Id, ObjectState.Active);

        var statsAfter = await c.StatsAsync(client, target);
        Assert.Equal(statsBefore.Committed, statsAfter.Committed);
        // Still serving: a valid spend of that very token commits.
        Assert.Equal(Outcome.Committed, await client.SubmitAsync(c.Prepare(Dummy.Spend([token]))));
    }

    private sealed class NullHandler : IFrameHandler
    {
        public void OnConnected(Connection connection) { }
        public void OnFrame(Connection connection, in InboundFrame frame) { }
        public void OnDisconnected(Connection connection, string reason) { }
    }
}
