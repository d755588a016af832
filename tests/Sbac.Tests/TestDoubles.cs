using Chainspace.Core;

namespace Chainspace.Sbac.Tests;

/// <summary>A plain dictionary-backed object table that enforces the legal transitions.</summary>
internal sealed class DictionaryObjectTable : IObjectTable
{
    private readonly Dictionary<Hash256, (ObjectStatus Status, Hash256 Owner)> _objects = [];

    public int Count => _objects.Count;
    public bool IsUsable(in Hash256 objectId) => _objects.TryGetValue(objectId, out var e) && e.Status == ObjectStatus.Active;

    public ObjectStatus GetStatus(in Hash256 id, out Hash256 lockedBy)
    {
        if (_objects.TryGetValue(id, out var e))
        {
            lockedBy = e.Owner;
            return e.Status;
        }
        lockedBy = default;
        return ObjectStatus.Unknown;
    }

    public void Create(in Hash256 id)
    {
        Assert.False(_objects.ContainsKey(id), "created twice");
        _objects[id] = (ObjectStatus.Active, default);
    }

    public void Lock(in Hash256 id, in Hash256 transaction)
    {
        Assert.Equal(ObjectStatus.Active, GetStatus(id, out _));
        _objects[id] = (ObjectStatus.Locked, transaction);
    }

    public void Unlock(in Hash256 id, in Hash256 transaction)
    {
        Assert.Equal(ObjectStatus.Locked, GetStatus(id, out var owner));
        Assert.Equal(transaction, owner);
        _objects[id] = (ObjectStatus.Active, default);
    }

    public void Consume(in Hash256 id, in Hash256 transaction)
    {
        Assert.Equal(ObjectStatus.Locked, GetStatus(id, out var owner));
        Assert.Equal(transaction, owner);
        _objects[id] = (ObjectStatus.Inactive, default);
    }

    public void Clear() => _objects.Clear();
    public void Restore(in Hash256 id, ObjectStatus status, in Hash256 lockedBy) => _objects[id] = (status, lockedBy);

    public IEnumerable<(Hash256 Id, ObjectStatus Status, Hash256 LockedBy)> Entries() =>
        _objects.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value.Status, kv.Value.Owner));
}

/// <summary>Accepts exactly the (shard, decision) pairs the test declares valid, and counts calls.</summary>
internal sealed class ScriptedVerifier : IProofVerifier
{
    private readonly HashSet<(uint Shard, Decision Decision, Hash256 Tx)> _valid = [];
    public int Calls { get; private set; }

    public void Allow(uint shard, Decision decision, Hash256 tx) => _valid.Add((shard, decision, tx));

    public bool Verify(in LocalPreparedProof proof, in Hash256 txId)
    {
        Calls++;
        return _valid.Contains((proof.Shard, proof.Decision, txId));
    }
}
