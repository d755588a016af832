using System.Buffers.Binary;
using System.Text;
using Chainspace.Core;
using Chainspace.Core.Cluster;

namespace Chainspace.Transport.Handshake;

/// <summary>
/// The bytes each side signs to prove its key: a domain tag, the cluster id and epoch, both identities,
/// both nonces, and which side signs. Both nonces make a recorded proof useless on any other connection;
/// the side byte stops a peer from reflecting the other side's proof back at it.
/// </summary>
internal static class HandshakeTranscript
{
    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("chainspace/transport/v1/handshake");
    public static readonly int Size = Domain.Length + Hash256.Size + 4 + 1 + 4 + 4 + 2 * HelloMessage.NonceSize + 1;

    public const byte SignerInitiator = 1;
    public const byte SignerResponder = 2;

    public static void Write(Span<byte> destination, Hash256 clusterId, uint epoch, byte initiatorRole, NodeId initiator,
        NodeId responder, ReadOnlySpan<byte> initiatorNonce, ReadOnlySpan<byte> responderNonce, byte signer)
    {
        Domain.CopyTo(destination);
        int at = Domain.Length;
        clusterId.WriteTo(destination[at..]);
        at += Hash256.Size;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], epoch);
        at += 4;
        destination[at++] = initiatorRole;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], initiator.Shard);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 2)..], initiator.Replica);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 4)..], responder.Shard);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 6)..], responder.Replica);
        at += 8;
        initiatorNonce.CopyTo(destination[at..]);
        at += HelloMessage.NonceSize;
        responderNonce.CopyTo(destination[at..]);
        at += HelloMessage.NonceSize;
        destination[at++] = signer;
        Invariant.Check(at == Size);
    }
}
