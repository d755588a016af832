using Chainspace.Storage.Objects;
using Chainspace.Core;

namespace Chainspace.Sbac.Tests;

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
