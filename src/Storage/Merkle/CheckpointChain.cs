using System.Buffers.Binary;
using Chainspace.Core;

namespace Chainspace.Storage.Merkle;

/// <summary>
/// The audit hash chain: head_n = H('C' ‖ version ‖ algorithm ‖ head_{n-1} ‖ u64 n (LE) ‖ root_n), starting from a
/// known head (<see cref="Hash256.Zero"/> for a shard's first checkpoint). A changed root or head anywhere
/// breaks every link from there on for a verifier walking from a trusted start.
/// </summary>
public static class CheckpointChain
{
    public static Hash256 Next(in Hash256 previousHead, ulong number, in Hash256 root)
    {
        Span<byte> preimage = stackalloc byte[Hashing.PrefixSize + Hash256.Size + sizeof(ulong) + Hash256.Size];
        Hashing.WritePrefix(preimage, HashDomain.CheckpointHead);
        previousHead.WriteTo(preimage[Hashing.PrefixSize..]);
        BinaryPrimitives.WriteUInt64LittleEndian(preimage[(Hashing.PrefixSize + Hash256.Size)..], number);
        root.WriteTo(preimage[(Hashing.PrefixSize + Hash256.Size + sizeof(ulong))..]);
        return Hashing.Sha256(preimage);
    }

    public static CheckpointHead Append(in CheckpointHead previous, ulong number, in Hash256 root) =>
        new(number, root, Next(previous.Head, number, root));

    /// <summary>
    /// Walks <paramref name="heads"/> from the trusted <paramref name="start"/> (the head before the first):
    /// returns the index of the first link that does not follow (a wrong head, or a number not above the
    /// previous one), or -1 when the whole chain verifies.
    /// </summary>
    public static int Verify(in Hash256 start, ReadOnlySpan<CheckpointHead> heads, ulong previousNumber = 0)
    {
        var head = start;
        ulong number = previousNumber;
        for (int i = 0; i < heads.Length; i++)
        {
            if (i > 0 || previousNumber != 0)
            {
                if (heads[i].Number <= number) return i;
            }
            if (Next(head, heads[i].Number, heads[i].Root) != heads[i].Head) return i;
            head = heads[i].Head;
            number = heads[i].Number;
        }
        return -1;
    }
}
