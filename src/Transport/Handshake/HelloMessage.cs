using System.Buffers.Binary;
using Chainspace.Core;
using Chainspace.Core.Cluster;

namespace Chainspace.Transport.Handshake;

/// <summary>
/// First frame each side sends: who it claims to be, which cluster and epoch it is in, and a fresh nonce.
/// [u32 magic][u8 version][u8 role][32 cluster id][u32 epoch][u16 shard][u16 replica][32 nonce].
/// </summary>
internal readonly struct HelloMessage
{
    public const int Size = 4 + 1 + 1 + Hash256.Size + 4 + 2 + 2 + NonceSize;
    public const int NonceSize = 32;
    public const uint Magic = 0x54505343; // "CSPT"
    public const byte Version = 1;
    public const byte RoleReplica = 1;
    public const byte RoleClient = 2;

    public HelloMessage(byte role, Hash256 clusterId, uint epoch, NodeId id, ReadOnlySpan<byte> nonce)
    {
        Role = role;
        ClusterId = clusterId;
        Epoch = epoch;
        Id = id;
        Nonce = nonce.ToArray();
    }

    public byte Role { get; }
    public Hash256 ClusterId { get; }
    public uint Epoch { get; }
    public NodeId Id { get; }
    public byte[] Nonce { get; }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = Role;
        ClusterId.WriteTo(destination[6..]);
        int at = 6 + Hash256.Size;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], Epoch);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 4)..], Id.Shard);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(at + 6)..], Id.Replica);
        Nonce.CopyTo(destination[(at + 8)..]);
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out HelloMessage hello, out string? error)
    {
        hello = default;
        error = null;
        if (payload.Length != Size) { error = $"hello of {payload.Length} bytes, expected {Size}"; return false; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(payload) != Magic) { error = "hello magic mismatch"; return false; }
        if (payload[4] != Version) { error = $"handshake version {payload[4]}, expected {Version}"; return false; }
        byte role = payload[5];
        if (role is not (RoleReplica or RoleClient)) { error = $"unknown role {role}"; return false; }
        var clusterId = new Hash256(payload.Slice(6, Hash256.Size));
        int at = 6 + Hash256.Size;
        uint epoch = BinaryPrimitives.ReadUInt32LittleEndian(payload[at..]);
        var id = new NodeId(BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 4)..]), BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 6)..]));
        hello = new HelloMessage(role, clusterId, epoch, id, payload.Slice(at + 8, NonceSize));
        return true;
    }
}
