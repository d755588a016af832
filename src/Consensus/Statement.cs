using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Cluster;

namespace Chainspace.Consensus;

/// <summary>What a replica signs: a fixed-size statement, never a raw message.</summary>
public enum StatementKind : byte
{
    PrePrepare = 1,
    Prepare = 2,
    Commit = 3,
    Checkpoint = 4,
    ViewChange = 5,
    NewView = 6,
}

/// <summary>The shard a replica belongs to, as every signed statement is bound to it.</summary>
public readonly record struct ShardContext(ulong ClusterTag, uint Epoch, ushort Shard, int N)
{
    public int F => (N - 1) / 3;
    public int Quorum => 2 * F + 1;
    public int WeakQuorum => F + 1;

    public static ShardContext From(ClusterConfig cluster, ushort shard) =>
        new(cluster.ClusterId.Prefix64, cluster.Epoch, shard, cluster.Shard(shard).N);

    public int Primary(ulong view) => (int)(view % (ulong)N);
}

/// <summary>
/// The bytes behind every PBFT signature: magic, kind, cluster, epoch, shard, view, sequence, digest and
/// signer. Binding all of them means a signature cannot be replayed in another shard, epoch, view,
/// sequence number or role (the magic keeps PBFT statements apart from S-BAC's signed votes).
/// </summary>
public static class Statement
{
    public const byte Magic = 0x50; // 'P'
    public const int Size = 1 + 1 + 8 + 4 + 2 + 8 + 8 + Hash256.Size + 2;

    public static void Write(Span<byte> destination, StatementKind kind, in ShardContext context,
        ulong view, ulong sequence, in Hash256 digest, int replica)
    {
        destination[0] = Magic;
        destination[1] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], context.ClusterTag);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[10..], context.Epoch);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], context.Shard);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], view);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], sequence);
        digest.WriteTo(destination[32..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[64..], (ushort)replica);
    }

    public static void Sign(IReplicaSigner signer, StatementKind kind, in ShardContext context,
        ulong view, ulong sequence, in Hash256 digest, int replica, Span<byte> signature)
    {
        Span<byte> statement = stackalloc byte[Size];
        Write(statement, kind, context, view, sequence, digest, replica);
        signer.Sign(statement, signature);
    }

    public static bool Verify(IReplicaSigner signer, StatementKind kind, in ShardContext context,
        ulong view, ulong sequence, in Hash256 digest, int replica, ReadOnlySpan<byte> signature)
    {
        if ((uint)replica >= (uint)context.N) return false;
        Span<byte> statement = stackalloc byte[Size];
        Write(statement, kind, context, view, sequence, digest, replica);
        return signer.Verify(replica, statement, signature);
    }
}
