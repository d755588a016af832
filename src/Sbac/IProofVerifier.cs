using Chainspace.Core;

namespace Chainspace.Sbac;

/// <summary>Checks a LOCALPREPARED proof for transaction <c>txId</c> against the cluster configuration.</summary>
public interface IProofVerifier
{
    /// <summary>True if f+1 distinct replicas of <c>proof.Shard</c> signed the batch statement and the
    /// leaf (txId, proof.Decision) is in that batch's vote tree.</summary>
    bool Verify(in LocalPreparedProof proof, in Hash256 txId);
}
