using Chainspace.Core;
using Chainspace.Core.Codec;

namespace Chainspace.Sbac;

/// <summary>
/// What a replica signs once per executed batch: its shard's votes for that batch, as the root of a
/// Merkle tree whose leaves are (T id ‖ decision) in execution order, bound to the cluster, the
/// configuration epoch, the shard and the batch's sequence number, so that a vote cannot be replayed
/// for another cluster, epoch, shard or batch, and a leaf cannot be moved to another transaction.
///
/// digest = H('V' ‖ v ‖ alg ‖ clusterId ‖ u32 epoch ‖ varint shard ‖ varint sequence ‖ varint leafCount ‖ root)
/// leaf   = T id ‖ u8 decision (33 bytes), hashed as a Merkle leaf.
/// </summary>
public static class VoteStatement
{
    public const int LeafSize = Hash256.Size + 1;

    public static Hash256 Digest(in Hash256 clusterId, uint epoch, uint shard, ulong sequence, ulong leafCount, in Hash256 root)
    {
        Span<byte> buffer = stackalloc byte[Hashing.PrefixSize + Hash256.Size + 4 + 10 + 10 + 10 + Hash256.Size];
        Hashing.WritePrefix(buffer, HashDomain.Vote);
        var w = new SpanWriter(buffer[Hashing.PrefixSize..]);
        w.WriteHash(clusterId);
        w.WriteByte((byte)epoch);
        w.WriteByte((byte)(epoch >> 8));
        w.WriteByte((byte)(epoch >> 16));
        w.WriteByte((byte)(epoch >> 24));
        w.WriteVarUInt64(shard);
        w.WriteVarUInt64(sequence);
        w.WriteVarUInt64(leafCount);
        w.WriteHash(root);
        return Hashing.Sha256(buffer[..(Hashing.PrefixSize + w.Written)]);
    }

    public static void WriteLeaf(Span<byte> destination, in Hash256 transactionId, Decision decision)
    {
        transactionId.WriteTo(destination);
        destination[Hash256.Size] = (byte)decision;
    }
}
